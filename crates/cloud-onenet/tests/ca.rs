//! The embedded CA is the one the notes identify by fingerprint.

use base64::Engine as _;
use sha2::Digest as _;

const NOTES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/clouds/onenet.md"
);

#[test]
fn embedded_ca_matches_the_fingerprint_in_the_notes() {
    let notes = std::fs::read_to_string(NOTES).unwrap();
    // The notes give it as "SHA-256 fingerprint\n`7D:E9:…`".
    let after = &notes[notes
        .find("SHA-256 fingerprint")
        .expect("fingerprint in notes")..];
    let want: String = after.split('`').nth(1).unwrap().to_owned();
    assert_eq!(want.len(), 32 * 3 - 1, "{want}");

    let pem = cloud_onenet::connect::CA_PEM;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let got: Vec<String> = sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(got.join(":"), want);
}
