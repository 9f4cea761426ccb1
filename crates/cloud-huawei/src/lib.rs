//! `cloud-huawei`: not built yet (see the open issues).
