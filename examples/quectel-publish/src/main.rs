//! A small custom agent built on `quectel-mqtt` alone: it opens the module's AT port,
//! brings the module up, opens and connects MQTT client 0, subscribes, publishes a few
//! messages at QoS 1 (each resolves when the module reports the broker's PUBACK), prints what
//! arrives, and disconnects.
//!
//! ```text
//! quectel-publish PORT HOST PORT CLIENT_ID [TOPIC]
//! quectel-publish /dev/ttyUSB2 broker.emqx.io 1883 my-device demo/topic
//! ```
//!
//! Try it with no hardware against the emulator: `modem-sim --pty` prints a port path.

use std::time::Duration;

use quectel_mqtt::commands::{
    At, CfgRecvMode, Connect, Disconnect, Open, Qos, RecvMode, SetEcho, TopicFilter,
};
use quectel_mqtt::driver::{open_serial, Client, DriverEvent};
use quectel_mqtt::Urc;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!(
            "usage: {} SERIAL_PORT MQTT_HOST MQTT_PORT CLIENT_ID [TOPIC]",
            args[0]
        );
        std::process::exit(2);
    }
    if let Err(e) = run(
        &args[1],
        &args[2],
        &args[3],
        &args[4],
        args.get(5).map_or("cellagent/demo", String::as_str),
    )
    .await
    {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(
    port: &str,
    host: &str,
    mqtt_port: &str,
    client_id: &str,
    topic: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mqtt_port: u16 = mqtt_port
        .parse()
        .map_err(|_| format!("MQTT_PORT: {mqtt_port:?} is not a port number 1-65535"))?;
    let (client, _task) = Client::spawn(open_serial(port, 115_200)?);
    let mut events = client.events();

    client.execute(At).await?;
    client.execute(SetEcho { on: false }).await?;
    client
        .execute(CfgRecvMode {
            client: 0,
            mode: RecvMode {
                buffered: false,
                with_length: true,
            },
        })
        .await?;
    client
        .execute(Open {
            client: 0,
            host: host.into(),
            port: mqtt_port,
        })
        .await?;
    client
        .execute(Connect {
            client: 0,
            client_id: client_id.into(),
            credentials: None,
        })
        .await?;
    let granted = client
        .subscribe(
            0,
            vec![TopicFilter {
                topic: topic.into(),
                qos: Qos::AtLeastOnce,
            }],
        )
        .await?;
    println!("subscribed to {topic}: {granted:?}");

    for i in 0..3 {
        let payload = format!("{{\"seq\":{i}}}");
        let msgid = client
            .publish(
                0,
                topic,
                Qos::AtLeastOnce,
                false,
                payload.clone().into_bytes(),
            )
            .await?;
        println!("published {payload} (msgid {msgid}): acknowledged");
    }

    let deadline = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            event = events.recv() => match event {
                Ok(DriverEvent::Urc(Urc::Recv(m))) => println!("received on {}: {}", m.topic, String::from_utf8_lossy(&m.payload)),
                Ok(DriverEvent::Urc(Urc::Stat { code, .. })) => return Err(format!("link down: {code}").into()),
                Ok(_) => {}
                Err(_) => break,
            },
        }
    }
    client.execute(Disconnect { client: 0 }).await?;
    println!("disconnected");
    Ok(())
}
