//! `quectel_mqtt::Decoder` over arbitrary module bytes, fed whole and in chunks.
//!
//! Input: a 3-byte header, then the stream.
//! * byte 0, flags: bit 0 expect the prompt from the start; bits 1–2 `+QMTRECV` framing
//!   (0 `Auto`, 1 `WithLength`, 2 `WithoutLength`, 3 mixed per client); bit 3 a 64-byte
//!   frame bound instead of 8 KiB; bit 4 arm the echo of the data after each prompt, as the
//!   session does with echo on (the echoed data is the stream's first `byte 2 % 32` bytes,
//!   which are then cut off the stream); bit 5 re-arm the prompt after each echoed
//!   `AT+QMTPUBEX` line;
//! * byte 1: the largest chunk (`% 64 + 1`); byte 2: the chunking seed (and echo length).
//!
//! Invariants: no panic; every frame or error consumes input and decoding settles (bounded
//! rounds); `Ok(None)` is stable; lines hold no line ending; and when the stream fits in one
//! frame (≤ the bound), decoding it whole and in chunks gives the same frames and errors
//! (`docs/transport.md`: "splitting any stream at any points yields the same frames").
//!
//! Finding F1 (docs/fuzzing.md, fixed in 5701de7): with an echo armed, a chunk that ended
//! inside a prefix of the expected echo was consumed before the rest showed it was not the
//! echo (`fuzz/corpus/at_decoder/finding-f1-echo-split`). Splits are compared with the echo
//! armed too.
#![no_main]

use bytes::{Bytes, BytesMut};
use cellagent_fuzz::{drain, Chunker, Decoded};
use libfuzzer_sys::fuzz_target;
use quectel_mqtt::decoder::{Decoder, Frame, RecvFraming};

struct Setup {
    prompt: bool,
    framing: u8,
    max_frame: usize,
    echo: Option<Bytes>,
    rearm_prompt: bool,
}

fn decoder(s: &Setup) -> Decoder {
    let mut d = Decoder::with_max_frame(s.max_frame);
    d.expect_prompt(s.prompt);
    for client in 0..=quectel_mqtt::MAX_CLIENT {
        let mode = match s.framing {
            3 => client % 3,
            f => f,
        };
        let framing = match mode {
            0 => RecvFraming::Auto,
            1 => RecvFraming::WithLength,
            _ => RecvFraming::WithoutLength,
        };
        d.set_recv_framing(client, framing);
    }
    d
}

fn run(s: &Setup, pieces: &[&[u8]]) -> Vec<Decoded> {
    let mut d = decoder(s);
    let mut src = BytesMut::new();
    let mut out = Vec::new();
    let after = |d: &mut Decoder, got: &Decoded| match got {
        Ok(Frame::Prompt) => {
            if let Some(echo) = &s.echo {
                d.expect_echo(echo.clone());
            }
        }
        Ok(Frame::Line(l)) if s.rearm_prompt && l.starts_with("AT+QMTPUBEX") => {
            d.expect_prompt(true)
        }
        _ => {}
    };
    for piece in pieces {
        src.extend_from_slice(piece);
        drain(&mut d, &mut src, &mut out, after);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [flags, max_chunk, seed, rest @ ..] = data else {
        return;
    };
    let echo_len = if flags & 0x10 != 0 {
        usize::from(seed % 32).min(rest.len())
    } else {
        0
    };
    let (echo, stream) = rest.split_at(echo_len);
    let setup = Setup {
        prompt: flags & 1 != 0,
        framing: (flags >> 1) & 3,
        max_frame: if flags & 8 != 0 { 64 } else { 8 * 1024 },
        echo: (!echo.is_empty()).then(|| Bytes::copy_from_slice(echo)),
        rearm_prompt: flags & 0x20 != 0,
    };
    let whole = run(&setup, &[stream]);
    let pieces = Chunker::new(*seed, usize::from(max_chunk % 64) + 1).split(stream);
    let chunked = run(&setup, &pieces);
    if stream.len() <= setup.max_frame {
        assert_eq!(
            whole,
            chunked,
            "whole and chunked decoding differ (chunks {:?})",
            pieces.iter().map(|p| p.len()).collect::<Vec<_>>()
        );
    }
});
