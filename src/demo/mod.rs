//! `certprobe demo`: a simulated service on 127.0.0.1, checked by the real probes.
