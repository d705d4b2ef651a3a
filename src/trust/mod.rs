//! Trust anchors: the platform's roots plus `--trust` files; anchor expiry.
