//! The README and the architecture decision records, compiled and run as doctests so
//! every code block in them stays true of the real API.

#[doc = include_str!("../README.md")]
pub struct Readme;

#[doc = include_str!("../docs/adr/017-optional-observability-integrations.md")]
pub struct Adr017;

#[doc = include_str!("../docs/adr/018-own-layer-instead-of-sentry-tracing.md")]
pub struct Adr018;

#[doc = include_str!("../docs/adr/019-ci-and-release-tracking.md")]
pub struct Adr019;

#[doc = include_str!("../docs/adr/020-scrubbing-at-the-transport.md")]
pub struct Adr020;

#[doc = include_str!("../docs/adr/021-tenant-context-from-spans.md")]
pub struct Adr021;

#[doc = include_str!("../docs/adr/022-reports-leave-the-calling-thread.md")]
pub struct Adr022;

#[doc = include_str!("../docs/adr/023-breadcrumbs-without-a-request.md")]
pub struct Adr023;

#[doc = include_str!("../docs/adr/024-sentry-integration.md")]
pub struct Adr024;

#[doc = include_str!("../docs/adr/025-request-boundary.md")]
pub struct Adr025;

#[doc = include_str!("../docs/adr/026-finding-the-layer-and-a-panic-hook-that-never-waits.md")]
pub struct Adr026;

#[doc = include_str!("../docs/adr/027-flood-control-keys.md")]
pub struct Adr027;

#[doc = include_str!("../docs/adr/028-sentry-parity.md")]
pub struct Adr028;

#[doc = include_str!("../docs/adr/029-architecture.md")]
pub struct Adr029;

#[doc = include_str!("../docs/adr/030-structured-logs.md")]
pub struct Adr030;

#[doc = include_str!("../docs/adr/032-spool.md")]
pub struct Adr032;

#[doc = include_str!("../CHANGELOG.md")]
pub struct Changelog;
