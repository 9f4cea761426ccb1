//! `cloud-aliyun`: not built yet (see the open issues).
