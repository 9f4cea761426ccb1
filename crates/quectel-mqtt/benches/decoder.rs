//! Decoder throughput over a recorded-style session stream: the module's side of the guide's
//! §5.1 session followed by a busy stretch of publish results and `+QMTRECV` messages
//! (64- and 512-byte JSON payloads with CR LF, quotes and commas), fed in 64-byte reads as a
//! UART driver delivers them. Prints bytes/s (criterion's "thrpt").

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quectel_mqtt::decoder::RecvFraming;
use quectel_mqtt::Decoder;

fn session_stream() -> Vec<u8> {
    let mut out = Vec::new();
    let lines = |out: &mut Vec<u8>, ls: &[&str]| {
        for l in ls {
            out.extend_from_slice(format!("\r\n{l}\r\n").as_bytes());
        }
    };
    lines(
        &mut out,
        &[
            "OK",
            "OK",
            "+QMTOPEN: (0-5),\"hostname\",(1-65535)",
            "OK",
            "OK",
            "+QMTOPEN: 0,0",
        ],
    );
    lines(
        &mut out,
        &["OK", "+QMTCONN: 0,0,0", "OK", "+QMTSUB: 0,1,0,2"],
    );
    for i in 0..2000u32 {
        let size = if i % 4 == 0 { 512 } else { 64 };
        let mut payload = format!(
            "{{\"id\":\"{i}\",\"params\":{{\"temp\":{}.5,\"note\":\"a,b\\r\\n\"",
            i % 40
        );
        while payload.len() < size - 2 {
            payload.push('x');
        }
        payload.push_str("\"}");
        out.extend_from_slice(
            format!("\r\n+QMTRECV: 0,{},\"/sys/a1/dev/thing/service/property/set\",{},\"{payload}\"\r\n", i % 65535, payload.len())
                .as_bytes(),
        );
        lines(
            &mut out,
            &["OK", &format!("+QMTPUBEX: 0,{},0", i % 65535 + 1)],
        );
    }
    out
}

fn decode_stream(stream: &[u8]) -> usize {
    let mut decoder = Decoder::new();
    decoder.set_recv_framing(0, RecvFraming::WithLength);
    let mut src = BytesMut::with_capacity(4096);
    let mut frames = 0;
    for chunk in stream.chunks(64) {
        src.extend_from_slice(chunk);
        while let Ok(Some(_)) = decoder.decode(&mut src) {
            frames += 1;
        }
    }
    frames
}

fn bench(c: &mut Criterion) {
    let stream = session_stream();
    let frames = decode_stream(&stream);
    assert!(frames > 6000, "the stream decodes into frames ({frames})");
    let mut group = c.benchmark_group("decoder");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function(
        format!("session stream {} KiB, 64-byte reads", stream.len() / 1024),
        |b| b.iter(|| decode_stream(std::hint::black_box(&stream))),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
