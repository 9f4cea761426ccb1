//! Tests of the run loop's pure helpers.
use super::*;
use quectel_mqtt::StatCode;

#[test]
fn link_loss_is_recognised_for_our_client_only() {
    let stat = |client| {
        DriverEvent::Urc(Urc::Stat {
            client,
            code: StatCode::ClosedByServer,
        })
    };
    assert!(link_lost(&stat(0), 0).is_some());
    assert!(link_lost(&stat(1), 0).is_none());
    assert!(link_lost(&DriverEvent::Urc(Urc::Ready), 0)
        .unwrap()
        .contains("RDY"));
    assert!(link_lost(&DriverEvent::Unresponsive, 3).is_some());
    assert!(link_lost(&DriverEvent::Responsive, 0).is_none());
}

#[tokio::test]
async fn inflight_completes_in_any_order_and_pends_when_empty() {
    let mut f = Inflight::default();
    let slow: PubFuture = Box::pin(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(1)
    });
    let fast: PubFuture = Box::pin(async { Ok(2) });
    f.items.push((1, Some("a".into()), slow));
    f.items.push((2, Some("b".into()), fast));
    assert_eq!(f.next().await.0, 2);
    assert_eq!(f.next().await.0, 1);
    let empty = tokio::time::timeout(Duration::from_millis(20), f.next()).await;
    assert!(empty.is_err());
}
