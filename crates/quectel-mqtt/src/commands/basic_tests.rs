use super::*;
use crate::commands::test_support::{encode, info, request};

#[test]
fn at_and_echo() {
    let req = request(&At);
    assert_eq!(
        (req.line.as_slice(), req.info, req.timeout, req.effect),
        (&b"AT"[..], Info::None, QUICK_TIMEOUT, None)
    );
    assert_eq!(At.parse(Response::default()), Ok(()));
    let off = request(&SetEcho { on: false });
    assert_eq!(
        (off.line.as_slice(), off.effect),
        (&b"ATE0"[..], Some(Effect::Echo(false)))
    );
    let on = request(&SetEcho { on: true });
    assert_eq!(
        (on.line.as_slice(), on.effect),
        (&b"ATE1"[..], Some(Effect::Echo(true)))
    );
}

#[test]
fn identify_reads_three_text_lines() {
    let req = request(&Identify);
    assert_eq!((req.line.as_slice(), req.info), (&b"ATI"[..], Info::Text));
    let reply = Identify
        .parse(info(&[
            "Quectel",
            "EC200U",
            "Revision: EC200UCNAAR02A01M08",
        ]))
        .unwrap();
    assert_eq!(
        reply,
        DeviceInfo {
            manufacturer: "Quectel".into(),
            model: "EC200U".into(),
            revision: "EC200UCNAAR02A01M08".into()
        }
    );
    // BG95 log (shared/at-logs/02): the same shape, after an echoed ATI.
    let reply = Identify
        .parse(info(&[
            "ATI",
            "Quectel",
            "BG95-M3",
            "Revision: BG95M3LAR02A03",
        ]))
        .unwrap();
    assert_eq!(reply.model, "BG95-M3");
    for bad in [&["Quectel", "EC200U"][..], &["Quectel"], &[]] {
        let err = Identify.parse(info(bad)).unwrap_err();
        assert!(
            matches!(err, Error::Reply { command: "ATI", .. }),
            "{bad:?}"
        );
    }
}

#[test]
fn sim_state() {
    let req = request(&SimStatusQuery);
    assert_eq!(
        (req.line.as_slice(), req.info, req.timeout),
        (&b"AT+CPIN?"[..], Info::Prefix("+CPIN:"), CPIN_TIMEOUT)
    );
    assert!(SimStatusQuery
        .parse(info(&["+CPIN: READY"]))
        .unwrap()
        .is_ready());
    assert_eq!(
        SimStatusQuery.parse(info(&["+CPIN: SIM PIN"])).unwrap(),
        SimState::SimPin
    );
    assert_eq!(
        SimStatusQuery.parse(info(&["+CPIN: SIM PUK2"])).unwrap(),
        SimState::SimPuk2
    );
    assert_eq!(
        SimStatusQuery
            .parse(info(&["+CPIN: PH-NETSUB PIN"]))
            .unwrap(),
        SimState::PhNetSubPin
    );
    assert_eq!(
        SimStatusQuery.parse(info(&["+CPIN: PH-CORP PUK"])).unwrap(),
        SimState::PhCorpPuk
    );
    assert_eq!(
        SimStatusQuery.parse(info(&["+CPIN: BUSY"])).unwrap(),
        SimState::Other("BUSY".into())
    );
    assert!(matches!(
        SimStatusQuery.parse(info(&["+CPIN: "])),
        Err(Error::Reply {
            command: "AT+CPIN",
            ..
        })
    ));
    assert!(matches!(
        SimStatusQuery.parse(info(&[])),
        Err(Error::Reply {
            command: "AT+CPIN",
            ..
        })
    ));
}

#[test]
fn signal_quality_and_dbm() {
    assert_eq!(encode(&SignalQuality), "AT+CSQ");
    let signal = SignalQuality.parse(info(&["+CSQ: 31,99"])).unwrap();
    assert_eq!(signal, Signal { rssi: 31, ber: 99 });
    assert_eq!((signal.dbm(), signal.bit_error_rate()), (Some(-51), None));
    assert_eq!(Signal { rssi: 0, ber: 0 }.dbm(), Some(-113));
    assert_eq!(Signal { rssi: 1, ber: 0 }.dbm(), Some(-111));
    assert_eq!(Signal { rssi: 28, ber: 0 }.dbm(), Some(-57));
    assert_eq!(Signal { rssi: 99, ber: 7 }.dbm(), None);
    assert_eq!(Signal { rssi: 32, ber: 8 }.dbm(), None);
    assert_eq!(Signal { rssi: 99, ber: 7 }.bit_error_rate(), Some(7));
    for bad in ["+CSQ: 31", "+CSQ: x,99", "+CSQ: 300,99"] {
        let err = SignalQuality.parse(info(&[bad])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Reply {
                    command: "AT+CSQ",
                    ..
                }
            ),
            "{bad}"
        );
    }
}

#[test]
fn eps_registration() {
    let req = request(&RegistrationQuery);
    assert_eq!(
        (req.line.as_slice(), req.info),
        (&b"AT+CEREG?"[..], Info::Prefix("+CEREG:"))
    );
    let reply = RegistrationQuery.parse(info(&["+CEREG: 0,5"])).unwrap();
    assert_eq!(
        reply,
        EpsRegistration {
            urc_mode: 0,
            status: RegStatus::Roaming,
            tac: None,
            cell_id: None,
            access_technology: None
        }
    );
    assert!(reply.status.is_registered());
    let full = RegistrationQuery
        .parse(info(&["+CEREG: 2,1,\"5A0F\",\"0B4E2D01\",7"]))
        .unwrap();
    assert_eq!(full.status, RegStatus::Home);
    assert_eq!(
        (
            full.tac.as_deref(),
            full.cell_id.as_deref(),
            full.access_technology
        ),
        (Some("5A0F"), Some("0B4E2D01"), Some(7))
    );
    // URCs caught while the query is in flight are skipped.
    let with_urcs = info(&[
        "+CEREG: 1",
        "+CEREG: 1,\"5A0F\",\"0B4E2D01\",7",
        "+CEREG: 2,2",
    ]);
    assert_eq!(
        RegistrationQuery.parse(with_urcs).unwrap().status,
        RegStatus::Searching
    );
    for code in [0u8, 2, 3, 4] {
        assert!(!RegStatus::from_code(code).is_registered());
    }
    assert_eq!(RegStatus::from_code(8), RegStatus::Other(8));
    assert!(matches!(
        RegistrationQuery.parse(info(&["+CEREG: 1"])),
        Err(Error::Reply {
            command: "AT+CEREG",
            ..
        })
    ));
    assert!(matches!(
        RegistrationQuery.parse(info(&["+CEREG: x,1"])),
        Err(Error::Reply { .. })
    ));
}
