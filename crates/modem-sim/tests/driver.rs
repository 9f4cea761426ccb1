//! The host-side driver (`quectel_mqtt::driver`) against the emulator over a real pty, paced
//! at 115200 baud, with mosquitto behind it.

mod common;

use bytes::Bytes;
use common::{peer, peer_subscribe, recv_on, Mosquitto, GUARD};
use modem_sim::{qfupl_checksum, SimConfig, Simulator};
use quectel_mqtt::commands::{
    At, CfgKeepalive, CfgQuery, CfgRecvMode, CfgTest, CfgTimeout, ClientState, Close, ConnState,
    ConnStateQuery, Connect, Disconnect, FileUpload, Identify, Open, OpenQuery, PacketTimeouts,
    Qos, RecvMode, SecLevel, SetEcho, SignalQuality, SimState, SimStatusQuery, SslConfigQuery,
    SslConfigSet, SslOption, SslSetting, SubAck, TopicFilter,
};
use quectel_mqtt::driver::{open_serial, Client, DriverEvent};
use quectel_mqtt::Urc;
use rumqttc::QoS;

#[tokio::test]
async fn driver_over_pty_every_command_family() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, mut cloud_rx) = peer(broker.port, "cloud-drv").await;
    peer_subscribe(&cloud, &mut cloud_rx, "drv/up", "probe/drv").await;

    let (master, path) = Simulator::open_pty().unwrap();
    let sim = Simulator::new(SimConfig::default());
    tokio::spawn(async move { sim.run_session(master).await });
    // Consume the power-up RDY first: a driver that meets RDY while a command is in flight
    // reports a restart (see the next comment).
    {
        let raw = quectel_mqtt::driver::open_serial(&path, 115_200).unwrap();
        common::Host::new(raw).until("\r\nRDY\r\n").await;
    }
    let port = open_serial(&path, 115_200).expect("open the pty by path");
    let (c, _task) = Client::spawn(port);
    let mut events = c.events();

    c.execute(At).await.unwrap();
    c.execute(SetEcho { on: false }).await.unwrap();
    let info = c.execute(Identify).await.unwrap();
    assert_eq!(
        (info.manufacturer.as_str(), info.model.as_str()),
        ("Quectel", "EC600S")
    );
    assert_eq!(c.execute(SimStatusQuery).await.unwrap(), SimState::Ready);
    c.execute(SignalQuality).await.unwrap();
    let listing = c.execute(CfgTest).await.unwrap();
    assert!(listing.iter().any(|o| o.is("edit/timeout")));
    assert!(listing.iter().any(|o| o.is("aliauth")));

    let mode = RecvMode {
        buffered: false,
        with_length: true,
    };
    c.execute(CfgRecvMode { client: 0, mode }).await.unwrap();
    c.execute(CfgKeepalive {
        client: 0,
        seconds: 60,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgKeepalive>::new(0)).await.unwrap(),
        60
    );
    let timeouts = PacketTimeouts {
        pkt_timeout: 5,
        retry_times: 2,
        report_timeouts: false,
    };
    c.execute(CfgTimeout {
        client: 0,
        timeouts,
    })
    .await
    .unwrap();

    let data = Bytes::from_static(b"-----BEGIN CERTIFICATE-----\nnot really\n");
    let up = c
        .execute(FileUpload {
            name: "UFS:ca.pem".into(),
            data: data.clone(),
            input_timeout: Some(10),
        })
        .await
        .unwrap();
    assert_eq!(
        (up.size as usize, up.checksum),
        (data.len(), qfupl_checksum(&data))
    );
    c.execute(SslConfigSet {
        context: 1,
        setting: SslSetting::SecLevel(SecLevel::Server),
    })
    .await
    .unwrap();
    let lvl = c
        .execute(SslConfigQuery {
            context: 1,
            option: SslOption::SecLevel,
        })
        .await
        .unwrap();
    assert_eq!(lvl, SslSetting::SecLevel(SecLevel::Server));

    c.execute(Open {
        client: 0,
        host: "127.0.0.1".into(),
        port: broker.port,
    })
    .await
    .unwrap();
    let eps = c.execute(OpenQuery).await.unwrap();
    assert_eq!((eps.len(), eps[0].port), (1, broker.port));
    c.execute(Connect {
        client: 0,
        client_id: "driver-dev".into(),
        credentials: None,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(ConnStateQuery).await.unwrap(),
        vec![ClientState {
            client: 0,
            state: ConnState::Connected
        }]
    );
    let acks = c
        .subscribe(
            0,
            vec![TopicFilter {
                topic: "drv/down".into(),
                qos: Qos::AtLeastOnce,
            }],
        )
        .await
        .unwrap();
    assert_eq!(acks, vec![SubAck::Granted(Qos::AtLeastOnce)]);

    // A payload with CR LF, quotes and commas is framed by its length.
    let body = "{\"k\":\"a,b\"}\r\nline2";
    cloud
        .publish("drv/down", QoS::AtLeastOnce, false, body)
        .await
        .unwrap();
    let msg = tokio::time::timeout(GUARD, async {
        loop {
            if let Ok(DriverEvent::Urc(Urc::Recv(m))) = events.recv().await {
                return m;
            }
        }
    })
    .await
    .expect("message from the cloud");
    assert_eq!(
        (msg.topic.as_str(), &msg.payload[..]),
        ("drv/down", body.as_bytes())
    );

    c.publish(
        0,
        "drv/up",
        Qos::AtLeastOnce,
        false,
        &b"{\"temp\":23.5}"[..],
    )
    .await
    .unwrap();
    assert_eq!(
        &recv_on(&mut cloud_rx, "drv/up").await.payload[..],
        b"{\"temp\":23.5}"
    );
    c.unsubscribe(0, vec!["drv/down".into()]).await.unwrap();
    c.execute(Disconnect { client: 0 }).await.unwrap();
    c.execute(Close { client: 0 }).await.unwrap();
    assert!(c.execute(ConnStateQuery).await.unwrap().is_empty());
}
