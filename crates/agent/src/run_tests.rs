//! Tests of the run loop's pure helpers.
use super::supervise::link_lost;
use super::*;
use quectel_mqtt::StatCode;

#[test]
fn link_loss_is_recognised_for_our_client_only_and_classified() {
    let stat = |client| {
        DriverEvent::Urc(Urc::Stat {
            client,
            code: StatCode::ClosedByServer,
        })
    };
    let (cause, reason) = link_lost(&stat(0), 0).unwrap();
    assert_eq!(cause, Cause::Dropped(1));
    assert!(reason.starts_with("+QMTSTAT: 0,1"), "{reason}");
    assert!(link_lost(&stat(1), 0).is_none());
    let (cause, reason) = link_lost(&DriverEvent::Urc(Urc::Ready), 0).unwrap();
    assert_eq!(cause, Cause::ModuleRestarted);
    assert!(reason.contains("RDY"));
    let ping = DriverEvent::Urc(Urc::Ping {
        client: 3,
        result: 1,
    });
    assert_eq!(link_lost(&ping, 3).unwrap().0, Cause::PingFailed);
    assert_eq!(
        link_lost(&DriverEvent::Unresponsive, 3).unwrap().0,
        Cause::AtChannelDead
    );
    assert!(link_lost(&DriverEvent::Responsive, 0).is_none());
}
