//! Opening a client's network link for `AT+QMTOPEN`: DNS, TCP, then TLS when `"ssl"` is on,
//! with the emulated latency; failures map onto the guide's `+QMTOPEN` results.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use crate::api::TlsSettings;

/// How long `AT+QMTOPEN` may take (the guide's maximum response time).
const OPEN_TIMEOUT: Duration = Duration::from_secs(120);

/// Where and how a client task opens its link.
#[derive(Debug, Clone)]
pub struct LinkSpec {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS settings, if any.
    pub tls: Option<TlsSettings>,
    /// Latency added to each round trip and handshake.
    pub rtt: Duration,
    /// A carrier NAT idle timeout on the path, if any.
    pub nat_idle: Option<Duration>,
}

/// A link: TCP or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Opens the link; `Err` is the `+QMTOPEN` result (4 DNS, -1 connect or TLS failure).
pub(crate) async fn open(
    host: &str,
    port: u16,
    tls: Option<TlsSettings>,
    rtt: Duration,
) -> Result<Box<dyn Io>, i8> {
    let addrs = match tokio::net::lookup_host((host, port)).await {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => {
            tracing::info!(host, "DNS lookup failed: {e}");
            return Err(4);
        }
    };
    sleep(rtt).await;
    let tcp = match timeout(OPEN_TIMEOUT, TcpStream::connect(&addrs[..])).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::info!(host, port, "connect failed: {e}");
            return Err(-1);
        }
        Err(_) => return Err(-1),
    };
    let _ = tcp.set_nodelay(true);
    let Some(tls) = tls else {
        return Ok(Box::new(tcp));
    };
    let connector = crate::tls::connector(&tls).map_err(|e| {
        tracing::warn!("TLS configuration unusable: {e}");
        -1
    })?;
    let name = rustls_pki_types::ServerName::try_from(host.to_string()).map_err(|_| -1)?;
    sleep(rtt).await;
    match timeout(OPEN_TIMEOUT, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(Box::new(s)),
        Ok(Err(e)) => {
            tracing::info!(host, "TLS handshake failed: {e}");
            Err(-1)
        }
        Err(_) => Err(-1),
    }
}
