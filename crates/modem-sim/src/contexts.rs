//! The settings contexts the module keeps: `AT+QSSLCFG` (SSL) and `AT+QICSGP` (PDP).

/// One `AT+QSSLCFG` context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SslCtx {
    pub sslversion: u8,
    pub ciphersuite: u32,
    pub seclevel: u8,
    pub cacert: Option<String>,
    pub clientcert: Option<String>,
    pub clientkey: Option<String>,
    pub ignorelocaltime: u8,
    pub negotiatetime: u16,
    pub sni: u8,
}

impl Default for SslCtx {
    fn default() -> Self {
        SslCtx {
            sslversion: 4,
            ciphersuite: 0xFFFF,
            seclevel: 0,
            cacert: None,
            clientcert: None,
            clientkey: None,
            ignorelocaltime: 1,
            negotiatetime: 300,
            sni: 0,
        }
    }
}

/// One `AT+QICSGP` context as set (stored only: no PDP is emulated). `Debug` masks the
/// password.
#[derive(Clone, PartialEq, Eq)]
pub struct PdpCtx {
    /// `<context_type>`: 1 IPv4, 2 IPv6, 3 IPv4v6 (default 1).
    pub context_type: u8,
    /// `<APN>`.
    pub apn: String,
    /// `<username>`.
    pub username: String,
    /// `<password>`.
    pub password: String,
    /// `<authentication>`: 0 none, 1 PAP, 2 CHAP, 3 PAP or CHAP (default 0).
    pub auth: u8,
}

impl std::fmt::Debug for PdpCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdpCtx")
            .field("context_type", &self.context_type)
            .field("apn", &self.apn)
            .field("username", &self.username)
            .field("password", &"***")
            .field("auth", &self.auth)
            .finish()
    }
}

impl Default for PdpCtx {
    fn default() -> Self {
        PdpCtx {
            context_type: 1,
            apn: String::new(),
            username: String::new(),
            password: String::new(),
            auth: 0,
        }
    }
}
