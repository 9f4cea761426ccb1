//! Unit tests of the QMTCFG options.
use super::*;
use crate::parser::parse_line;

fn run(cfg: &mut ClientCfg, p: Profile, line: &str) -> Result<CfgOutcome, ParseError> {
    let c = parse_line(line).unwrap();
    let opt = canonical_option(&c.args.string(0).unwrap()).unwrap();
    apply(cfg, p, opt, &c.args)
}

#[test]
fn options_set_and_query() {
    let mut c = ClientCfg::default();
    let g = Profile::Guide;
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="keepalive",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "keepalive",120"#.into()])
    );
    run(&mut c, g, r#"AT+QMTCFG="KeepAlive",0,60"#).unwrap();
    assert_eq!(c.keepalive, 60);
    assert!(run(&mut c, g, r#"AT+QMTCFG="keepalive",0,3601"#).is_err());
    run(&mut c, g, r#"AT+QMTCFG="timeout",0,10,2,1"#).unwrap();
    assert_eq!(
        (c.pkt_timeout, c.retry_times, c.timeout_notice),
        (10, 2, true)
    );
    assert!(run(&mut c, g, r#"AT+QMTCFG="timeout",0,61,2,1"#).is_err());
    assert!(run(&mut c, Profile::Ec600s, r#"AT+QMTCFG="timeout",0,61,2,1"#).is_ok());
    assert!(run(&mut c, g, r#"AT+QMTCFG="ssl",0,1"#).is_err());
    run(&mut c, g, r#"AT+QMTCFG="SSL",0,1,2"#).unwrap();
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="ssl",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "ssl",1,2"#.into()])
    );
    run(&mut c, g, r#"AT+QMTCFG="recv/mode",0,1,1"#).unwrap();
    assert!(c.recv_buffered && c.recv_len);
    run(&mut c, g, r#"AT+QMTCFG="dataformat",0,1,0"#).unwrap();
    assert!(c.send_hex && !c.recv_hex);
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="send/mode",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "send/mode",1"#.into()])
    );
}

#[test]
fn will_and_willex() {
    let mut c = ClientCfg::default();
    let g = Profile::Guide;
    run(&mut c, g, r#"AT+QMTCFG="will",0,1,1,0,"dead","bye""#).unwrap();
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="will",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "will",1,1,0,"dead","bye""#.into()])
    );
    assert!(run(&mut c, g, r#"AT+QMTCFG="will",0,1,3,0,"dead","bye""#).is_err());
    assert!(run(&mut c, g, r#"AT+QMTCFG="will",0,1,1,0,"","bye""#).is_err());
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="willex",0,1,2,1,"t",10"#).unwrap(),
        CfgOutcome::WillexPrompt {
            qos: 2,
            retain: true,
            topic: "t".into(),
            len: 10
        }
    );
    assert!(run(&mut c, g, r#"AT+QMTCFG="willex",0,1,2,1,"t",257"#).is_err());
    run(&mut c, g, r#"AT+QMTCFG="will",0,0"#).unwrap();
    assert_eq!(c.will, None);
}

#[test]
fn auth_options_last_wins() {
    let mut c = ClientCfg::default();
    let g = Profile::Guide;
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="aliauth",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "aliauth","","","""#.into()])
    );
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="hwauth",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "hwauth","","""#.into()])
    );
    run(&mut c, g, r#"AT+QMTCFG="aliauth",0,"pk","dn","ds""#).unwrap();
    run(&mut c, g, r#"AT+QMTCFG="hwauth",0,"id","sec",1"#).unwrap();
    assert_eq!(c.active_auth().unwrap().option(), "hwauth");
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="aliauth",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "aliauth","pk","dn","ds""#.into()])
    );
    assert_eq!(
        run(&mut c, g, r#"AT+QMTCFG="hwauth",0"#).unwrap(),
        CfgOutcome::Query(vec![r#"+QMTCFG: "hwauth","id","sec",1"#.into()])
    );
    assert!(run(&mut c, g, r#"AT+QMTCFG="aliauth",0,"pk","dn""#).is_err());
}

#[test]
fn listings() {
    assert_eq!(test_lines(Profile::Guide).len(), 18);
    let v10 = test_lines(Profile::GuideV10);
    assert_eq!(v10.len(), 17);
    assert!(!v10.iter().any(|l| l.contains("edit/timeout")));
    let mut c = ClientCfg::default();
    let set = r#"AT+QMTCFG="edit/timeout",0,1,30"#;
    assert!(run(&mut c, Profile::GuideV10, set).is_err());
    assert!(run(&mut c, Profile::Guide, set).is_ok());
    let e = test_lines(Profile::Ec600s);
    assert_eq!(e.len(), 19);
    assert_eq!(e[5], r#"+QMTCFG: "timeout",(0-5),(1-1200),(1-10),(0,1)"#);
    assert_eq!(canonical_option("ctwing"), Some("CTWing"));
    assert_eq!(canonical_option("nope"), None);
}
