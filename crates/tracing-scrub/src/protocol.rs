//! Scrubbing Sentry's protocol types in place, without a JSON round trip.
//!
//! The rules are those of the serialised form: a field is scrubbed as the value under
//! its wire name would be (`type`, `value`, `op`, ...), at the same depth, so the result
//! is the one a scrub of the report's JSON gives (a test compares the two). Every
//! struct is destructured field by field: a field added to Sentry's types fails to
//! compile here rather than going out unscrubbed. Parts this crate never fills and that
//! hold typed values (a request, a template, raw stack traces) still go through JSON,
//! one part at a time.

use std::borrow::Cow;

use sentry_types::protocol::v7::{
    Breadcrumb, Context, DeviceContext, Envelope, EnvelopeHeaders, EnvelopeItem, Event, Exception,
    Frame, ItemContainer, Log, Map, Mechanism, Metric, MonitorCheckIn, MonitorSchedule, OsContext,
    Request, RuntimeContext, SessionAttributes, Span, Stacktrace, Thread, Transaction, Url, User,
    Value,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::{
    all_digits, cut_at, may_be_postal, FieldRule, KeyVerdict, ScrubReport, Scrubber, MAX_DEPTH,
    MAX_VALUE_BYTES,
};
use crate::paths::short_source_path;

#[cfg(test)]
mod reference;

/// Name of the event context that says how much was scrubbed, and by which rules.
pub const SCRUB_CONTEXT: &str = "scrubbing";
/// The context that says what a project's [`PiiConfig`](crate::PiiConfig) matched in a
/// report: `{"dry_run": bool, "matches": {"<rule>": count}}`. Rule names only.
pub const PII_CONFIG_CONTEXT: &str = "pii_config";
/// What replaces an event or transaction that could not be inspected.
pub const UNSCRUBBABLE: &str = "[report withheld: it could not be scrubbed]";
/// Longest tag value sent (Sentry's limit), in characters; cut after scrubbing.
pub const MAX_TAG_CHARS: usize = 200;
/// Keys Sentry reserves at the top level of a context: `type` names the context's kind.
const RESERVED_CONTEXT_KEYS: &[&str] = &["type"];

/// The name a field is sent under at the top level of a context: a key Sentry reserves
/// there (`type`, the context's kind) gets a trailing `_` (`type_`); any other name is
/// sent as it is. The one rename of reserved keys: the scrubber applies it to every
/// context it is given (a direct capture's, a hub scope's), and tracing-error-reports to
/// the contexts it builds (`fields`, `spans` and the fields of each span in it).
#[inline]
pub fn context_key(name: &str) -> Cow<'_, str> {
    if RESERVED_CONTEXT_KEYS.contains(&name) {
        Cow::Owned(format!("{name}_"))
    } else {
        Cow::Borrowed(name)
    }
}

/// The context whose keys are span names and whose values are each span's fields, as
/// tracing-error-reports writes it: its keys are scrubbed as text, never as field names,
/// so a span named `auth` or `session` keeps its fields (each scrubbed as usual).
pub const SPANS_CONTEXT: &str = "spans";

// `op` (span names) and `description` are scrubbed: ordinary names come out unchanged,
// so grouping by them is kept.
pub(crate) const TRACE_KEYS: &[&str] = &[
    "trace_id",
    "span_id",
    "parent_span_id",
    "status",
    "origin",
    "type",
    "timestamp",
    "start_timestamp",
    "same_process_as_parent",
];

/// Wire names of the structs with flattened maps (and the contexts' `type` tag): an
/// entry of the map under one of them is left to the JSON path.
const USER_FIELDS: &[&str] = &["id", "email", "ip_address", "username"];
const OS_FIELDS: &[&str] = &[
    "type",
    "name",
    "version",
    "build",
    "kernel_version",
    "rooted",
];
const RUNTIME_FIELDS: &[&str] = &["type", "name", "version"];
const DEVICE_FIELDS: &[&str] = &[
    "type",
    "name",
    "family",
    "model",
    "model_id",
    "arch",
    "battery_level",
    "orientation",
    "simulator",
    "memory_size",
    "free_memory",
    "usable_memory",
    "storage_size",
    "free_storage",
    "external_storage_size",
    "external_free_storage",
    "boot_time",
    "timezone",
];

/// A part that cannot be scrubbed and still be of its type: the item is withheld.
#[derive(Debug)]
pub(crate) struct Withheld;

impl Scrubber {
    /// Scrubs an event's parts in place: contexts and breadcrumbs first, so they are
    /// clean even when a later part makes the event `Withheld`.
    pub(super) fn scrub_event_in_place(
        &self,
        event: &mut Event<'static>,
        report: &mut ScrubReport,
    ) -> Result<(), Withheld> {
        let Event {
            event_id: _,
            level: _,
            fingerprint,
            culprit,
            transaction,
            message,
            logentry,
            logger,
            modules: _,
            platform: _,
            timestamp: _,
            server_name,
            release,
            dist,
            environment,
            user,
            request,
            contexts,
            breadcrumbs,
            exception,
            stacktrace,
            template,
            threads,
            tags,
            extra,
            debug_meta: _,
            sdk: _,
        } = event;
        *contexts = self.scrub_contexts(std::mem::take(contexts), report);
        self.scrub_breadcrumbs(&mut breadcrumbs.values, report);
        // A capture may build its fingerprint from data (`{{ default }}` is a variable).
        if fingerprint.iter().any(|entry| entry != "{{ default }}") {
            let entries = fingerprint
                .iter()
                .map(|entry| {
                    let mut entry = entry.to_string();
                    self.scrub_text_at(&mut entry, report, 2);
                    Cow::Owned(entry)
                })
                .collect::<Vec<_>>();
            *fingerprint = Cow::Owned(entries);
        }
        for text in [culprit, transaction, message, logger]
            .into_iter()
            .flatten()
        {
            self.scrub_text_at(text, report, 1);
        }
        // Set by the service once, but from its environment: a CI token in a release
        // (`app@1.0+ghp_...`) is sent with every report. Clean ones pass unchanged.
        for name in [release, dist, environment].into_iter().flatten() {
            self.scrub_cow_text(name, report);
        }
        self.scrub_shared_parts(server_name, user, tags, extra, request, report)?;
        for exception in &mut exception.values {
            self.scrub_exception(exception, report)?;
        }
        if let Some(stacktrace) = stacktrace {
            self.scrub_stacktrace_vars(stacktrace, report)?;
        }
        for thread in &mut threads.values {
            let Thread {
                id: _,
                name,
                stacktrace,
                raw_stacktrace,
                crashed: _,
                current: _,
            } = thread;
            if let Some(name) = name {
                self.scrub_text_at(name, report, 1);
            }
            for stacktrace in [stacktrace, raw_stacktrace].into_iter().flatten() {
                self.scrub_stacktrace_vars(stacktrace, report)?;
            }
        }
        if let Some(logentry) = logentry {
            self.scrub_via_json(logentry, report)?;
        }
        if let Some(template) = template {
            self.scrub_via_json(template, report)?;
        }
        Ok(())
    }

    /// Scrubs a transaction's parts in place, contexts first.
    pub(super) fn scrub_transaction_in_place(
        &self,
        transaction: &mut Transaction<'static>,
        report: &mut ScrubReport,
    ) -> Result<(), Withheld> {
        let Transaction {
            event_id: _,
            name,
            release,
            environment,
            user,
            tags,
            extra,
            sdk: _,
            platform: _,
            timestamp: _,
            start_timestamp: _,
            spans,
            contexts,
            request,
            server_name,
        } = transaction;
        *contexts = self.scrub_contexts(std::mem::take(contexts), report);
        if let Some(name) = name {
            self.scrub_text_at(name, report, 1);
        }
        for name in [release, environment].into_iter().flatten() {
            self.scrub_cow_text(name, report);
        }
        self.scrub_shared_parts(server_name, user, tags, extra, request, report)?;
        for span in spans {
            self.scrub_span(span, report)?;
        }
        Ok(())
    }

    /// The parts an event and a transaction both have.
    fn scrub_shared_parts(
        &self,
        server_name: &mut Option<Cow<'static, str>>,
        user: &mut Option<User>,
        tags: &mut Map<String, String>,
        extra: &mut Map<String, Value>,
        request: &mut Option<Request>,
        report: &mut ScrubReport,
    ) -> Result<(), Withheld> {
        if let Some(name) = server_name {
            self.scrub_cow_text(name, report);
        }
        if let Some(user) = user {
            self.scrub_user(user, report)?;
        }
        self.scrub_tags(tags, report);
        self.scrub_entries(extra.iter_mut(), &[], report, 1);
        if let Some(request) = request {
            self.scrub_request(request, report)?;
        }
        Ok(())
    }

    /// Scrubs breadcrumbs in place. Neighbouring breadcrumbs repeat each other (one
    /// category per module, the same message from a loop, the same field names and
    /// values): a text equal to the previous breadcrumb's at the same place, found clean
    /// there, is not checked again, and a field name at the same place as in the previous
    /// breadcrumb keeps its verdict.
    pub(super) fn scrub_breadcrumbs(&self, crumbs: &mut [Breadcrumb], report: &mut ScrubReport) {
        // Of the previous breadcrumb: whether its category and message were found clean
        // (and not cut, so they are as checked); per data entry, its key's verdict and
        // whether its text was found clean and not cut.
        let mut prev_texts = [false; 2];
        let mut prev_entries: Vec<(KeyVerdict, bool)> = Vec::new();
        let mut entries: Vec<(KeyVerdict, bool)> = Vec::new();
        for at in 0..crumbs.len() {
            let (done, rest) = crumbs.split_at_mut(at);
            let previous = done.last();
            let Breadcrumb {
                timestamp: _,
                ty: _,
                category,
                level: _,
                message,
                data,
            } = &mut rest[0];
            let before = [
                previous.and_then(|p| p.category.as_deref()),
                previous.and_then(|p| p.message.as_deref()),
            ];
            let mut texts = [false; 2];
            for (i, text) in [category, message].into_iter().enumerate() {
                if let Some(text) = text {
                    let whole = text.len() <= MAX_VALUE_BYTES;
                    let clean = (prev_texts[i] && before[i] == Some(text.as_str()))
                        || self.scrub_text_remembering(text, report);
                    // Clean and not cut: left exactly as it was checked.
                    texts[i] = clean && whole;
                    cut_at(text, MAX_VALUE_BYTES);
                }
            }
            prev_texts = texts;
            // As `scrub_entries` at depth 1.
            entries.clear();
            let mut before = previous.map(|p| p.data.iter().zip(&prev_entries));
            for (key, value) in data.iter_mut() {
                let same_key = before
                    .as_mut()
                    .and_then(Iterator::next)
                    .filter(|((k, _), _)| *k == key);
                let verdict: KeyVerdict = match same_key {
                    Some((_, (verdict, _))) => *verdict,
                    None => self.key_verdict(key),
                };
                let mut clean = false;
                let scan = matches!(verdict.rule(false, false), FieldRule::Scan);
                match value {
                    Value::String(text) if scan && self.postal_under_label(key, text) => {
                        *text = self.replacement.clone();
                        report.add("@address");
                    }
                    // The one rule, with the previous breadcrumb's text remembered.
                    Value::String(text) if scan && !(verdict.id && all_digits(text)) => {
                        let whole = text.len() <= MAX_VALUE_BYTES;
                        clean = (matches!(same_key, Some(((_, Value::String(p)), (_, true))) if p == text)
                            || self.scrub_text_remembering(text, report))
                            && whole;
                        cut_at(text, MAX_VALUE_BYTES);
                    }
                    _ => self.apply_verdict(verdict, value, report, 1),
                }
                entries.push((verdict, clean));
            }
            std::mem::swap(&mut prev_entries, &mut entries);
        }
    }

    /// A text at `depth`, as `scrub_value_at` treats a JSON string there.
    fn scrub_text_at(&self, text: &mut String, report: &mut ScrubReport, depth: usize) {
        if depth >= MAX_DEPTH {
            *text = self.replacement.clone();
            report.add("@too_deep");
            return;
        }
        self.scrub_report_text(text, report);
    }

    /// A top-level text held as a `Cow` (the server name, release, environment). The
    /// same texts in every report: found clean once, remembered (`CleanTexts`).
    fn scrub_cow_text(&self, text: &mut Cow<'static, str>, report: &mut ScrubReport) {
        let known = self.clean.contains(text);
        let scrubbed = match known {
            true => Cow::Borrowed(&**text),
            false => self.scrub_str(text, report),
        };
        let scrubbed = match scrubbed {
            Cow::Owned(scrubbed) => scrubbed,
            Cow::Borrowed(same) => {
                if !known {
                    self.clean.insert(same);
                }
                if text.len() <= MAX_VALUE_BYTES {
                    return;
                }
                text.to_string()
            }
        };
        let mut scrubbed = scrubbed;
        cut_at(&mut scrubbed, MAX_VALUE_BYTES);
        *text = Cow::Owned(scrubbed);
    }

    /// A text under `key` in a map at `depth`, as `scrub_entries` treats it.
    fn scrub_text_entry(
        &self,
        key: &str,
        text: &mut String,
        report: &mut ScrubReport,
        depth: usize,
    ) {
        if self.postal_under_label(key, text) {
            *text = self.replacement.clone();
            report.add("@address");
            return;
        }
        match self
            .key_verdict(key)
            .rule(all_digits(text), self.holds_nothing(text))
        {
            FieldRule::Keep => {}
            FieldRule::Replace => {
                *text = self.replacement.clone();
                report.add("@key");
            }
            FieldRule::Scan => self.scrub_text_at(text, report, depth + 1),
        }
    }

    /// A map of texts at `depth`, leaving `structural` keys alone.
    fn scrub_text_map(
        &self,
        map: &mut Map<String, String>,
        structural: &[&str],
        report: &mut ScrubReport,
        depth: usize,
    ) {
        for (key, text) in map.iter_mut() {
            if !structural.contains(&key.as_str()) {
                self.scrub_text_entry(key, text, report, depth);
            }
        }
    }

    /// Top-level tags: trace ids and the like kept, the rest scrubbed, then each cut to
    /// Sentry's limit.
    fn scrub_tags(&self, tags: &mut Map<String, String>, report: &mut ScrubReport) {
        self.scrub_text_map(tags, TRACE_KEYS, report, 1);
        for tag in tags.values_mut() {
            if let Some((cut, _)) = tag.char_indices().nth(MAX_TAG_CHARS) {
                tag.truncate(cut);
            }
        }
    }

    /// A map-valued field under `key` of a struct at `depth` (a span's `data`). An
    /// empty map is not on the wire; under a sensitive key the map would have to become
    /// text, which its type cannot hold.
    fn scrub_map_entry(
        &self,
        key: &str,
        map: &mut Map<String, Value>,
        report: &mut ScrubReport,
        depth: usize,
    ) -> Result<(), Withheld> {
        if map.is_empty() || self.keys.is_safe(key) {
            return Ok(());
        }
        self.map_entry_fits(key, report, depth)?;
        self.scrub_entries(map.iter_mut(), &[], report, depth + 1);
        Ok(())
    }

    /// [`Self::scrub_map_entry`] for a map of texts (a span's `tags`).
    fn scrub_text_map_entry(
        &self,
        key: &str,
        map: &mut Map<String, String>,
        report: &mut ScrubReport,
        depth: usize,
    ) -> Result<(), Withheld> {
        if map.is_empty() || self.keys.is_safe(key) {
            return Ok(());
        }
        self.map_entry_fits(key, report, depth)?;
        self.scrub_text_map(map, &[], report, depth + 1);
        Ok(())
    }

    /// Whether a non-empty map under `key` stays a map: not when the key is sensitive or
    /// the map too deep (the JSON rules would make it text).
    fn map_entry_fits(
        &self,
        key: &str,
        report: &mut ScrubReport,
        depth: usize,
    ) -> Result<(), Withheld> {
        if self.keys.is_sensitive(key) {
            report.add("@key");
            return Err(Withheld);
        }
        if depth + 1 >= MAX_DEPTH {
            report.add("@too_deep");
            return Err(Withheld);
        }
        Ok(())
    }

    fn scrub_user(&self, user: &mut User, report: &mut ScrubReport) -> Result<(), Withheld> {
        if user.ip_address.is_some() || user.other.keys().any(|k| USER_FIELDS.contains(&k.as_str()))
        {
            // Never so from this crate: an address scrubbed to text is no address, and
            // flattened names that clash are the JSON path's to decide.
            return self.scrub_via_json(user, report);
        }
        let User {
            id,
            email,
            ip_address: _,
            username,
            other,
        } = user;
        for (key, text) in [("id", id), ("email", email), ("username", username)] {
            if let Some(text) = text {
                self.scrub_text_entry(key, text, report, 1);
            }
        }
        self.scrub_entries(other.iter_mut(), &[], report, 1);
        Ok(())
    }

    /// An exception: its type and value are text; module, mechanism, stack trace and
    /// thread are code, except local variables in frames.
    fn scrub_exception(
        &self,
        exception: &mut Exception,
        report: &mut ScrubReport,
    ) -> Result<(), Withheld> {
        let Exception {
            ty,
            value,
            module,
            stacktrace,
            raw_stacktrace,
            thread_id: _,
            mechanism,
        } = exception;
        self.scrub_text_entry("type", ty, report, 1);
        if let Some(module) = module {
            self.scrub_text_entry("module", module, report, 1);
        }
        if let Some(value) = value {
            self.scrub_text_entry("value", value, report, 1);
        }
        if let Some(raw) = raw_stacktrace {
            // Not among the exception's code fields in the JSON rules: scrubbed whole.
            self.scrub_entry_via_json("raw_stacktrace", raw, report, 1)?;
        }
        for stacktrace in [stacktrace, raw_stacktrace].into_iter().flatten() {
            self.scrub_stacktrace_vars(stacktrace, report)?;
        }
        if let Some(mechanism) = mechanism {
            let Mechanism {
                ty: _,
                description,
                help_link,
                handled: _,
                synthetic: _,
                data,
                meta: _,
            } = mechanism;
            if let Some(description) = description {
                self.scrub_text_at(description, report, 1);
            }
            if let Some(link) = help_link.take() {
                *help_link = Some(self.scrub_url(link, report));
            }
            for (key, value) in data.iter_mut() {
                self.scrub_frame_entry(key, value, report);
            }
        }
        Ok(())
    }

    /// Local variables of every frame.
    fn scrub_stacktrace_vars(
        &self,
        stacktrace: &mut Stacktrace,
        report: &mut ScrubReport,
    ) -> Result<(), Withheld> {
        if stacktrace.registers.contains_key("vars") {
            // A register named like the variables: the generic walk.
            let mut json = serde_json::to_value(&*stacktrace).map_err(|_| Withheld)?;
            self.scrub_frame_vars(&mut json, report);
            *stacktrace = serde_json::from_value(json).map_err(|_| Withheld)?;
            return Ok(());
        }
        for frame in &mut stacktrace.frames {
            let Frame {
                function,
                symbol: _,
                module: _,
                package: _,
                filename,
                abs_path,
                lineno: _,
                colno: _,
                pre_context,
                context_line,
                post_context,
                in_app: _,
                vars,
                image_addr: _,
                instruction_addr: _,
                symbol_addr: _,
                addr_mode: _,
            } = frame;
            self.scrub_entries(vars.iter_mut(), &[], report, 1);
            for text in [function, context_line].into_iter().flatten() {
                self.scrub_text_at(text, report, 1);
            }
            for line in pre_context.iter_mut().chain(post_context.iter_mut()) {
                self.scrub_text_at(line, report, 2);
            }
            // A dependency's path holds the home directory (personal data).
            for path in [filename, abs_path].into_iter().flatten() {
                let short = short_source_path(path);
                if short.len() != path.len() {
                    *path = short.into_owned();
                }
            }
        }
        Ok(())
    }

    fn scrub_span(&self, span: &mut Span, report: &mut ScrubReport) -> Result<(), Withheld> {
        let Span {
            span_id: _,
            trace_id: _,
            parent_span_id: _,
            same_process_as_parent: _,
            op,
            description,
            timestamp: _,
            start_timestamp: _,
            status: _,
            tags,
            data,
        } = span;
        if let Some(op) = op {
            self.scrub_text_entry("op", op, report, 1);
        }
        if let Some(description) = description {
            self.scrub_text_entry("description", description, report, 1);
        }
        self.scrub_text_map_entry("tags", tags, report, 1)?;
        self.scrub_map_entry("data", data, report, 1)
    }

    /// The os, runtime and device contexts (Sentry's contexts integration adds them to
    /// every event) in place when they hold only text; `None` to take the JSON path.
    pub(super) fn scrub_known_context(
        &self,
        context: &mut Context,
        report: &mut ScrubReport,
    ) -> Option<()> {
        let mut texts: [(&str, Option<&mut String>); 6] = Default::default();
        let (fields, other): (&[&str], _) = match context {
            Context::Os(os) => {
                let OsContext {
                    name,
                    version,
                    build,
                    kernel_version,
                    rooted,
                    other,
                } = &mut **os;
                if rooted.is_some() {
                    return None;
                }
                texts[0] = ("name", name.as_mut());
                texts[1] = ("version", version.as_mut());
                texts[2] = ("build", build.as_mut());
                texts[3] = ("kernel_version", kernel_version.as_mut());
                (OS_FIELDS, other)
            }
            Context::Runtime(runtime) => {
                let RuntimeContext {
                    name,
                    version,
                    other,
                } = &mut **runtime;
                texts[0] = ("name", name.as_mut());
                texts[1] = ("version", version.as_mut());
                (RUNTIME_FIELDS, other)
            }
            Context::Device(device) => {
                let DeviceContext {
                    name,
                    family,
                    model,
                    model_id,
                    arch,
                    battery_level,
                    orientation,
                    simulator,
                    memory_size,
                    free_memory,
                    usable_memory,
                    storage_size,
                    free_storage,
                    external_storage_size,
                    external_free_storage,
                    boot_time,
                    timezone,
                    other,
                } = &mut **device;
                let numbers = [
                    memory_size,
                    free_memory,
                    usable_memory,
                    storage_size,
                    free_storage,
                    external_storage_size,
                    external_free_storage,
                ];
                if battery_level.is_some()
                    || orientation.is_some()
                    || simulator.is_some()
                    || boot_time.is_some()
                    || numbers.iter().any(|n| n.is_some())
                {
                    return None;
                }
                texts = [
                    ("name", name.as_mut()),
                    ("family", family.as_mut()),
                    ("model", model.as_mut()),
                    ("model_id", model_id.as_mut()),
                    ("arch", arch.as_mut()),
                    ("timezone", timezone.as_mut()),
                ];
                (DEVICE_FIELDS, other)
            }
            _ => return None,
        };
        if other.keys().any(|key| fields.contains(&key.as_str())) {
            // A flattened name the struct or the context's tag owns: the JSON path
            // decides what survives.
            return None;
        }
        // As the JSON path: a map at depth 1 whose `type` is the context's kind.
        for (key, text) in texts {
            if let Some(text) = text {
                self.scrub_text_entry(key, text, report, 1);
            }
        }
        self.scrub_entries(other.iter_mut(), &["type"], report, 1);
        Some(())
    }

    /// A part this crate never fills, through JSON, as a top-level value.
    /// A request's URL is typed: scrubbed as text and kept when the result still parses
    /// as a URL; otherwise (a replacement inside the userinfo or host makes it invalid)
    /// its credentials, query and fragment are dropped and its path scrubbed on its own,
    /// rather than withholding the whole report. The rest of the request through JSON.
    pub(super) fn scrub_request(
        &self,
        request: &mut Request,
        report: &mut ScrubReport,
    ) -> Result<(), Withheld> {
        let url = request.url.take();
        self.scrub_via_json(request, report)?;
        request.url = url.map(|url| self.scrub_url(url, report));
        Ok(())
    }

    fn scrub_url(&self, mut url: Url, report: &mut ScrubReport) -> Url {
        let scrubbed = match self.scrub_str(url.as_str(), report) {
            Cow::Borrowed(_) => return url,
            Cow::Owned(text) => text,
        };
        if let Ok(parsed) = Url::parse(&scrubbed) {
            return parsed;
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_query(None);
        url.set_fragment(None);
        if let Cow::Owned(path) = self.scrub_str(url.path(), report) {
            url.set_path(&path);
        }
        report.add("@url");
        url
    }

    fn scrub_via_json<T>(&self, item: &mut T, report: &mut ScrubReport) -> Result<(), Withheld>
    where
        T: Serialize + DeserializeOwned,
    {
        let mut json = serde_json::to_value(&*item).map_err(|_| Withheld)?;
        self.scrub_value_at(&mut json, report, 1);
        *item = serde_json::from_value(json).map_err(|_| Withheld)?;
        Ok(())
    }

    /// A part under `key` of a struct at `depth`, through JSON.
    fn scrub_entry_via_json<T>(
        &self,
        key: &str,
        item: &mut T,
        report: &mut ScrubReport,
        depth: usize,
    ) -> Result<(), Withheld>
    where
        T: Serialize + DeserializeOwned,
    {
        let mut map = serde_json::Map::new();
        map.insert(
            key.to_owned(),
            serde_json::to_value(&*item).map_err(|_| Withheld)?,
        );
        self.scrub_entries(map.iter_mut(), &[], report, depth);
        let json = map.remove(key).ok_or(Withheld)?;
        *item = serde_json::from_value(json).map_err(|_| Withheld)?;
        Ok(())
    }
}

impl Scrubber {
    /// Local variables in stack frames are user data, and so are the texts a capture
    /// can put in a frame, thread or mechanism (source lines, function and thread
    /// names, descriptions, links); paths lose the home directory. The rest is code.
    fn scrub_frame_vars(&self, value: &mut Value, report: &mut ScrubReport) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    self.scrub_frame_entry(key, inner, report);
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.scrub_frame_vars(v, report)),
            _ => {}
        }
    }

    /// One entry of a frame, thread or mechanism (see [`Self::scrub_frame_vars`]).
    fn scrub_frame_entry(&self, key: &str, inner: &mut Value, report: &mut ScrubReport) {
        match key {
            "vars" | "function" | "context_line" | "pre_context" | "post_context" | "name"
            | "description" | "help_link" => self.scrub_value_at(inner, report, 1),
            "abs_path" | "filename" => {
                // A dependency's path holds the home directory (personal data).
                if let Value::String(path) = inner {
                    let short = short_source_path(path);
                    if short.len() != path.len() {
                        *path = short.into_owned();
                    }
                }
            }
            _ => self.scrub_frame_vars(inner, report),
        }
    }

    /// Scrubs an event; adds the [`SCRUB_CONTEXT`] context when anything was removed.
    /// An event with a part that cannot be scrubbed and keep its type is replaced by a
    /// stub saying so ([`UNSCRUBBABLE`]), with its scrubbed contexts and breadcrumbs.
    pub fn scrub_event(&self, mut event: Event<'static>) -> Event<'static> {
        let mut report = ScrubReport::default();
        // The project's rules see the data as Sentry's engine would (its matches'
        // bounds are not moved by this crate's replacements); the crate's own rules
        // then remove more.
        let pii = self.apply_pii_config_to_event(&mut event, &mut report);
        if pii.is_err() {
            // The project's rules left no valid event: send that fact only.
            event = Event {
                event_id: event.event_id,
                level: event.level,
                timestamp: event.timestamp,
                message: Some(UNSCRUBBABLE.to_owned()),
                ..Default::default()
            };
        }
        if self.scrub_event_in_place(&mut event, &mut report).is_err() {
            // Could not be inspected: send that fact, never the data.
            event = Event {
                event_id: event.event_id,
                level: event.level,
                timestamp: event.timestamp,
                message: Some(UNSCRUBBABLE.to_owned()),
                contexts: std::mem::take(&mut event.contexts),
                breadcrumbs: std::mem::take(&mut event.breadcrumbs),
                ..Default::default()
            };
        }
        if let Ok(Some(context)) = pii {
            event
                .contexts
                .insert(PII_CONFIG_CONTEXT.to_owned(), context);
        }
        if report.total() > 0 {
            event
                .contexts
                .insert(SCRUB_CONTEXT.to_owned(), report_context(&report));
        }
        event
    }

    /// Applies the project's [`PiiConfig`](crate::PiiConfig), if any, to an event, on
    /// its own types (the same result as through its JSON, ADR-031). The context to add
    /// says what matched.
    fn apply_pii_config_to_event(
        &self,
        event: &mut Event<'static>,
        report: &mut ScrubReport,
    ) -> Result<Option<Context>, Withheld> {
        let Some(config) = self.pii_config.as_deref() else {
            return Ok(None);
        };
        if config.is_empty() {
            return Ok(None);
        }
        let matches = config.apply_to_event(event).map_err(|_| Withheld)?;
        Ok(pii_config_context(config, matches, report))
    }

    /// Applies the project's [`PiiConfig`](crate::PiiConfig), if any, to a
    /// transaction already scrubbed by the crate's rules, through Sentry's JSON (the
    /// shape its rules are written for). The context to add says what matched.
    fn apply_pii_config<T: Serialize + DeserializeOwned>(
        &self,
        item: &mut T,
        report: &mut ScrubReport,
    ) -> Result<Option<Context>, Withheld> {
        let Some(config) = self.pii_config.as_deref() else {
            return Ok(None);
        };
        if config.is_empty() {
            return Ok(None);
        }
        let mut json = serde_json::to_value(&*item).map_err(|_| Withheld)?;
        let matches = config.apply_to_json(&mut json);
        if matches.is_empty() {
            return Ok(None);
        }
        if !config.is_dry_run() {
            fix_request_url(&mut json);
            match serde_json::from_value::<T>(json) {
                Ok(scrubbed) => *item = scrubbed,
                Err(_) => {
                    // A removal left a required field null: again, removing to empty
                    // values of the same kind.
                    let mut json = serde_json::to_value(&*item).map_err(|_| Withheld)?;
                    config.apply_to_json_keeping_types(&mut json);
                    fix_request_url(&mut json);
                    *item = serde_json::from_value::<T>(json).map_err(|_| Withheld)?;
                }
            }
        }
        Ok(pii_config_context(config, matches, report))
    }

    /// Scrubs a transaction (its spans' data and descriptions, tags, contexts, user).
    pub fn scrub_transaction(&self, mut transaction: Transaction<'static>) -> Transaction<'static> {
        let mut report = ScrubReport::default();
        let pii = self.apply_pii_config(&mut transaction, &mut report);
        if pii.is_err() {
            transaction = Transaction {
                event_id: transaction.event_id,
                name: Some(UNSCRUBBABLE.to_owned()),
                start_timestamp: transaction.start_timestamp,
                timestamp: transaction.timestamp,
                ..Default::default()
            };
        }
        if self
            .scrub_transaction_in_place(&mut transaction, &mut report)
            .is_err()
        {
            transaction = Transaction {
                event_id: transaction.event_id,
                name: Some(UNSCRUBBABLE.to_owned()),
                start_timestamp: transaction.start_timestamp,
                timestamp: transaction.timestamp,
                contexts: std::mem::take(&mut transaction.contexts),
                ..Default::default()
            };
        }
        if let Ok(Some(context)) = pii {
            transaction
                .contexts
                .insert(PII_CONFIG_CONTEXT.to_owned(), context);
        }
        if report.total() > 0 {
            transaction
                .contexts
                .insert(SCRUB_CONTEXT.to_owned(), report_context(&report));
        }
        transaction
    }

    /// Scrubs contexts in place: the maps this crate fills (fields, spans, location) and
    /// the trace context directly, so a field named `type` stays a field; any other kind
    /// of context through JSON (withheld if it does not survive the round trip).
    fn scrub_contexts(
        &self,
        contexts: sentry_types::protocol::v7::Map<String, Context>,
        report: &mut ScrubReport,
    ) -> sentry_types::protocol::v7::Map<String, Context> {
        self.scrub_contexts_as(contexts, report, true)
    }

    /// `typed`: the os, runtime and device contexts in place (else all through JSON, as
    /// the reference does).
    fn scrub_contexts_as(
        &self,
        contexts: sentry_types::protocol::v7::Map<String, Context>,
        report: &mut ScrubReport,
        typed: bool,
    ) -> sentry_types::protocol::v7::Map<String, Context> {
        let mut out = sentry_types::protocol::v7::Map::new();
        for (name, mut context) in contexts {
            if typed && self.scrub_known_context(&mut context, report).is_some() {
                out.insert(name, context);
                continue;
            }
            let context = match context {
                Context::Other(map) if name == SPANS_CONTEXT => {
                    // Keys here are span names, not field names: a span named `auth` or
                    // `session` keeps its fields (each scrubbed as usual). A name is text
                    // that leaves the process too, so secrets in it are replaced.
                    let mut spans = sentry_types::protocol::v7::Map::new();
                    for (span_name, mut fields) in map {
                        match &mut fields {
                            Value::Object(fields) => self.scrub_map_at(fields, &[], report, 2),
                            other => self.scrub_value_at(other, report, 2),
                        }
                        let mut key = span_name;
                        self.scrub_text_remembering(&mut key, report);
                        if spans.contains_key(&key) {
                            key = format!("{key}#{}", spans.len());
                        }
                        spans.insert(key, fields);
                    }
                    Context::Other(spans)
                }
                Context::Other(mut map) => {
                    // A field named `type` would clash with the context's own `type` tag
                    // and make the envelope unparsable: keep it under another name.
                    for reserved in RESERVED_CONTEXT_KEYS {
                        if let Some(value) = map.remove(*reserved) {
                            map.insert(context_key(reserved).into_owned(), value);
                        }
                    }
                    self.scrub_entries(map.iter_mut(), &[], report, 1);
                    Context::Other(map)
                }
                Context::Trace(mut trace) => {
                    self.scrub_entries(trace.data.iter_mut(), &[], report, 1);
                    // The op is the transaction name: the same in many reports.
                    for text in [&mut trace.op, &mut trace.description]
                        .into_iter()
                        .flatten()
                    {
                        self.scrub_text_remembering(text, report);
                    }
                    Context::Trace(trace)
                }
                other => {
                    let scrubbed = serde_json::to_value(&other).ok().and_then(|mut json| {
                        if let Value::Object(map) = &mut json {
                            self.scrub_map_at(map, &["type"], report, 1);
                        }
                        serde_json::from_value::<Context>(json).ok()
                    });
                    match scrubbed {
                        Some(context) => context,
                        None => {
                            report.add("@withheld");
                            continue;
                        }
                    }
                }
            };
            out.insert(name, context);
        }
        out
    }

    /// Scrubs every item of an envelope. Items that cannot be inspected (binary
    /// attachments, raw envelopes, item types this version does not know) are dropped
    /// rather than sent unscrubbed; [`scrub_envelope_refusing`](Self::scrub_envelope_refusing)
    /// also returns them, to be counted.
    pub fn scrub_envelope(&self, envelope: Envelope) -> Envelope {
        self.scrub_envelope_refusing(envelope).0
    }

    /// [`scrub_envelope`](Self::scrub_envelope), returning the items it refused to send
    /// with the reason for each.
    ///
    /// Every item type sentry-types 0.49 defines is scrubbed: events and transactions
    /// (see [`scrub_event`](Self::scrub_event)); monitor check-ins (the slug, the
    /// environment, the schedule's crontab and the time zone, as text); session updates
    /// and aggregates (the distinct id and the user agent as text, the IP address dropped
    /// when the rules remove IPs); logs (the body as text, attributes by the key rules as
    /// event fields are); metrics (the name as text, attributes by the key rules); text
    /// attachments (the body and the file name as text); client reports (counts only,
    /// sent as they are). The envelope header's dynamic sampling context carries a
    /// transaction name: scrubbed as text.
    pub fn scrub_envelope_refusing(&self, envelope: Envelope) -> (Envelope, Vec<RefusedItem>) {
        let mut out = Envelope::new().with_headers(self.scrub_envelope_headers(envelope.headers()));
        let mut refused = Vec::new();
        let mut report = ScrubReport::default();
        for item in envelope.into_items() {
            let item = match item {
                EnvelopeItem::Event(event) => {
                    EnvelopeItem::Event(Box::new(self.scrub_event(*event)))
                }
                EnvelopeItem::Transaction(tx) => {
                    EnvelopeItem::Transaction(Box::new(self.scrub_transaction(*tx)))
                }
                EnvelopeItem::Attachment(mut attachment) => {
                    match String::from_utf8(std::mem::take(&mut attachment.buffer)) {
                        Ok(text) => {
                            attachment.buffer =
                                self.scrub_str(&text, &mut report).into_owned().into_bytes();
                            self.scrub_text_at(&mut attachment.filename, &mut report, 0);
                            EnvelopeItem::Attachment(attachment)
                        }
                        Err(bytes) => {
                            attachment.buffer = bytes.into_bytes();
                            refused.push(RefusedItem {
                                item: EnvelopeItem::Attachment(attachment),
                                reason: REFUSED_BINARY_ATTACHMENT,
                            });
                            continue;
                        }
                    }
                }
                EnvelopeItem::MonitorCheckIn(mut check_in) => {
                    self.scrub_check_in(&mut check_in, &mut report);
                    EnvelopeItem::MonitorCheckIn(check_in)
                }
                EnvelopeItem::SessionUpdate(mut update) => {
                    if let Some(id) = &mut update.distinct_id {
                        self.scrub_text_at(id, &mut report, 0);
                    }
                    self.scrub_session_attributes(&mut update.attributes, &mut report);
                    EnvelopeItem::SessionUpdate(update)
                }
                EnvelopeItem::SessionAggregates(mut aggregates) => {
                    for id in aggregates
                        .aggregates
                        .iter_mut()
                        .filter_map(|a| a.distinct_id.as_mut())
                    {
                        self.scrub_text_at(id, &mut report, 0);
                    }
                    self.scrub_session_attributes(&mut aggregates.attributes, &mut report);
                    EnvelopeItem::SessionAggregates(aggregates)
                }
                EnvelopeItem::ItemContainer(ItemContainer::Logs(mut logs)) => {
                    for log in &mut logs {
                        self.scrub_log(log, &mut report);
                    }
                    EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))
                }
                EnvelopeItem::ItemContainer(ItemContainer::Metrics(mut metrics)) => {
                    for metric in &mut metrics {
                        self.scrub_metric(metric, &mut report);
                    }
                    EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics))
                }
                // Counts by reason and category: no user data.
                EnvelopeItem::ClientReport(report) => EnvelopeItem::ClientReport(report),
                EnvelopeItem::Raw => {
                    refused.push(RefusedItem {
                        item: EnvelopeItem::Raw,
                        reason: REFUSED_RAW,
                    });
                    continue;
                }
                // A kind of item added to sentry-types after this walk was written (the
                // enums are `non_exhaustive`): refused until it is walked here.
                other => {
                    refused.push(RefusedItem {
                        item: other,
                        reason: REFUSED_UNKNOWN,
                    });
                    continue;
                }
            };
            out.add_item(item);
        }
        (out, refused)
    }

    /// The envelope headers with the dynamic sampling context's transaction name
    /// scrubbed (its fields are private: through JSON). Headers that do not survive the
    /// round trip are replaced by empty ones (Sentry reads the DSN from the request).
    fn scrub_envelope_headers(&self, headers: &EnvelopeHeaders) -> EnvelopeHeaders {
        let Ok(mut json) = serde_json::to_value(headers) else {
            return EnvelopeHeaders::new();
        };
        let Some(Value::String(name)) = json.pointer_mut("/trace/transaction") else {
            return headers.clone();
        };
        let mut report = ScrubReport::default();
        if self.scrub_text_remembering(name, &mut report) {
            return headers.clone();
        }
        cut_at(name, MAX_VALUE_BYTES);
        serde_json::from_value(json).unwrap_or_default()
    }

    fn scrub_check_in(&self, check_in: &mut MonitorCheckIn, report: &mut ScrubReport) {
        let MonitorCheckIn {
            check_in_id: _,
            monitor_slug,
            status: _,
            environment,
            duration: _,
            monitor_config,
        } = check_in;
        self.scrub_text_at(monitor_slug, report, 0);
        if let Some(environment) = environment {
            self.scrub_text_at(environment, report, 0);
        }
        if let Some(config) = monitor_config {
            if let MonitorSchedule::Crontab { value } = &mut config.schedule {
                self.scrub_text_at(value, report, 0);
            }
            if let Some(zone) = &mut config.timezone {
                self.scrub_text_at(zone, report, 0);
            }
        }
    }

    /// Release and environment are the configuration's (as in events); the user agent
    /// is text; the IP address goes when the rules remove IPs.
    fn scrub_session_attributes(
        &self,
        attributes: &mut SessionAttributes<'static>,
        report: &mut ScrubReport,
    ) {
        if let Some(agent) = &mut attributes.user_agent {
            self.scrub_text_at(agent, report, 0);
        }
        if let Some(ip) = attributes.ip_address {
            let text = ip.to_string();
            if let Cow::Owned(_) = self.scrub_str(&text, report) {
                attributes.ip_address = None;
            }
        }
    }

    /// A structured log as [`scrub_envelope`](Self::scrub_envelope) scrubs one in a `log`
    /// item: the project's PiiConfig, then the body as text and the attributes by the
    /// key rules. For an SDK that scrubs its logs before it serialises them.
    pub fn scrub_log_item(&self, log: &mut Log) {
        self.scrub_log(log, &mut ScrubReport::default());
    }

    /// A log's body as [`scrub_log_item`](Self::scrub_log_item) scrubs it, without the
    /// PiiConfig (whose `$log` selectors need the whole log: use `scrub_log_item` when
    /// [`pii_config`](Self::pii_config) is set).
    pub fn scrub_log_body(&self, body: &mut String) {
        self.scrub_text_at(body, &mut ScrubReport::default(), 0);
    }

    /// A log attribute's value under `key` as [`scrub_log_item`](Self::scrub_log_item)
    /// scrubs it, without the PiiConfig: a secret key's value (of any type) becomes the
    /// replacement text, a text is scanned.
    pub fn scrub_log_attribute(&self, key: &str, value: &mut Value) {
        self.scrub_entry(key, value, &mut ScrubReport::default(), 1);
    }

    /// What the rules decide about a log attribute's `key` (safe, sensitive, an id, an
    /// address label), for a caller that sees the same keys again (tracing field names)
    /// to keep: [`scrub_log_attribute_under`](Self::scrub_log_attribute_under) with it
    /// scrubs a value as [`scrub_log_attribute`](Self::scrub_log_attribute) does under
    /// `key`, without deciding again. Valid for this scrubber only.
    pub fn log_attribute_key(&self, key: &str) -> LogAttributeKey {
        LogAttributeKey {
            verdict: self.key_verdict(key),
            address_label: self.scrubs_postal_under(key),
        }
    }

    /// [`scrub_log_attribute`](Self::scrub_log_attribute) under a key decided by
    /// [`log_attribute_key`](Self::log_attribute_key).
    pub fn scrub_log_attribute_under(&self, key: LogAttributeKey, value: &mut Value) {
        let mut report = ScrubReport::default();
        if let Value::String(text) = &*value {
            if key.address_label && may_be_postal(text) {
                *value = Value::String(self.replacement.clone());
                report.add("@address");
                return;
            }
        }
        self.apply_verdict(key.verdict, value, &mut report, 1);
    }

    fn scrub_log(&self, log: &mut Log, report: &mut ScrubReport) {
        self.apply_pii_config_to_log(log, report);
        self.scrub_text_at(&mut log.body, report, 0);
        for (key, attribute) in log.attributes.iter_mut() {
            self.scrub_entry(key, &mut attribute.0, report, 1);
        }
    }

    /// The project's [`PiiConfig`](crate::PiiConfig) on a log, before the crate's own
    /// rules (as for events): through Sentry's JSON of the log, its body and attribute
    /// values written back. A body removed is empty; an attribute whose value was
    /// removed is dropped.
    fn apply_pii_config_to_log(&self, log: &mut Log, report: &mut ScrubReport) {
        let Some(config) = self.pii_config.as_deref() else {
            return;
        };
        if config.is_empty() {
            return;
        }
        let Ok(mut json) = serde_json::to_value(&*log) else {
            // Not representable as JSON: the built-in policy alone, which follows.
            return;
        };
        let matches = config.apply_to_log_json(&mut json);
        if matches.is_empty() || config.is_dry_run() {
            return;
        }
        log.body = match json.get_mut("body").map(Value::take) {
            Some(Value::String(body)) => body,
            _ => String::new(),
        };
        let Some(Value::Object(mut attributes)) = json.get_mut("attributes").map(Value::take)
        else {
            log.attributes.clear();
            return;
        };
        log.attributes.retain(|name, attribute| {
            match attributes
                .get_mut(name)
                .and_then(|a| a.get_mut("value"))
                .map(Value::take)
            {
                Some(Value::Null) | None => false,
                Some(value) => {
                    attribute.0 = value;
                    true
                }
            }
        });
        for _ in 0..matches.values().sum::<u64>() {
            report.add("@pii_config");
        }
    }

    fn scrub_metric(&self, metric: &mut Metric, report: &mut ScrubReport) {
        if let Cow::Owned(name) = self.scrub_str(&metric.name, report) {
            metric.name = Cow::Owned(name);
        }
        for (key, attribute) in metric.attributes.iter_mut() {
            self.scrub_entry(key, &mut attribute.0, report, 1);
        }
    }
}

/// An envelope item [`Scrubber::scrub_envelope_refusing`] did not send, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct RefusedItem {
    /// The item, unsent (to be counted, e.g. in Sentry's client reports).
    pub item: EnvelopeItem,
    /// Why: one of [`REFUSED_BINARY_ATTACHMENT`], [`REFUSED_RAW`], [`REFUSED_UNKNOWN`].
    pub reason: &'static str,
}

/// An attachment whose body is not UTF-8 text: it cannot be inspected.
pub const REFUSED_BINARY_ATTACHMENT: &str = "binary attachment";
/// A raw envelope (bytes the client did not build): it cannot be inspected.
pub const REFUSED_RAW: &str = "raw envelope";
/// An item type this version of the walk does not know.
pub const REFUSED_UNKNOWN: &str = "unknown item type";

/// The [`PII_CONFIG_CONTEXT`] of a report the project's rules matched (`None` when
/// nothing matched); enforced matches are counted in `report`.
fn pii_config_context(
    config: &crate::PiiConfig,
    matches: std::collections::BTreeMap<String, u64>,
    report: &mut ScrubReport,
) -> Option<Context> {
    if matches.is_empty() {
        return None;
    }
    if !config.is_dry_run() {
        for _ in 0..matches.values().sum::<u64>() {
            report.add("@pii_config");
        }
    }
    let mut context = Map::new();
    context.insert("dry_run".into(), Value::from(config.is_dry_run()));
    context.insert(
        "matches".into(),
        Value::Object(
            matches
                .into_iter()
                .map(|(rule, n)| (rule, Value::from(n)))
                .collect(),
        ),
    );
    Some(Context::Other(context))
}

/// A request URL a rule made unparsable (`[Filtered]`) is dropped: the type holds URLs.
fn fix_request_url(json: &mut Value) {
    if let Some(url) = json.get_mut("request").and_then(|r| r.get_mut("url")) {
        if url.as_str().is_some_and(|u| Url::parse(u).is_err()) {
            *url = Value::Null;
        }
    }
}

pub(crate) fn report_context(report: &ScrubReport) -> Context {
    let mut map = sentry_types::protocol::v7::Map::new();
    map.insert("filtered".into(), Value::from(report.total()));
    map.insert(
        "rules".into(),
        Value::Array(report.by_rule.keys().map(|r| Value::from(*r)).collect()),
    );
    Context::Other(map)
}

/// What a [`Scrubber`]'s rules decide about one log attribute key
/// ([`Scrubber::log_attribute_key`]): kept by callers that scrub many values under the
/// same keys, so the key is not examined again for every value.
#[derive(Clone, Copy, Debug)]
pub struct LogAttributeKey {
    verdict: KeyVerdict,
    address_label: bool,
}

#[cfg(test)]
mod tests {
    use sentry_types::protocol::v7::{Breadcrumb, Context, Event, Map, Value};

    use super::*;
    use crate::ScrubRules;

    fn filtered(event: &Event<'static>) -> Option<u64> {
        match event.contexts.get(SCRUB_CONTEXT)? {
            sentry_types::protocol::v7::Context::Other(map) => map.get("filtered")?.as_u64(),
            _ => None,
        }
    }

    /// A log attribute key decided once scrubs every value as the key itself does:
    /// safe, sensitive, id and address-label keys, with texts, numbers and booleans.
    #[test]
    fn a_log_attribute_key_decided_once_scrubs_as_the_key() {
        for scrubber in [
            Scrubber::new(&ScrubRules::default()).expect("default rules"),
            Scrubber::new(&ScrubRules::default().safe_key("trace_note")).expect("rules"),
        ] {
            let keys = [
                "status",
                "password",
                "order_id",
                "card_id",
                "address",
                "Adresse",
                "ip_address",
                "user.id",
                "trace_note",
                "tags.region",
            ];
            let values = [
                Value::from("retrying"),
                Value::from(""),
                Value::from("[Filtered]"),
                Value::from("Hauptstr. 5, 10115 Berlin"),
                Value::from("221B Baker Street, London NW1 6XE"),
                Value::from("10.0.0.5:8080"),
                Value::from("4111 1111 1111 1111"),
                Value::from("4111111111111111"),
                Value::from("mail bob@example.com now"),
                Value::from(4_111_111_111_111_111_i64),
                Value::from(17),
                Value::from(true),
            ];
            let mut changed = 0;
            for key in keys {
                let decided = scrubber.log_attribute_key(key);
                for value in &values {
                    let (mut by_key, mut by_decision) = (value.clone(), value.clone());
                    scrubber.scrub_log_attribute(key, &mut by_key);
                    scrubber.scrub_log_attribute_under(decided, &mut by_decision);
                    assert_eq!(by_key, by_decision, "{key}: {value}");
                    changed += usize::from(by_key != *value);
                }
            }
            assert!(
                changed > 20,
                "the cases exercise the rules: {changed} changed"
            );
        }
    }

    /// An id key keeps its digits (order ids may pass Luhn) unless the key also names a
    /// secret or personal data: in every place of a report, as in the wrapped sinks.
    #[test]
    fn sensitive_id_keys_are_filtered_everywhere_plain_ids_kept() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let sensitive = [
            "session_id",
            "sessionId",
            "tax_id",
            "customer_tax_id",
            "card_id",
        ];
        let plain = ["order_id", "tenant_id", "requestId", "id"];
        let secret = "4111111111111111";
        let entries = |number: bool| -> Map<String, Value> {
            sensitive
                .iter()
                .chain(&plain)
                .map(|k| {
                    let value = if number {
                        Value::from(4_111_111_111_111_111u64)
                    } else {
                        Value::from(secret)
                    };
                    ((*k).to_owned(), value)
                })
                .collect()
        };
        for number in [false, true] {
            let event = Event {
                message: Some("ids".into()),
                extra: entries(number),
                tags: sensitive
                    .iter()
                    .chain(&plain)
                    .map(|k| ((*k).to_owned(), secret.to_owned()))
                    .collect(),
                contexts: [("fields".to_owned(), Context::Other(entries(number)))]
                    .into_iter()
                    .collect(),
                breadcrumbs: vec![Breadcrumb {
                    message: Some("crumb".into()),
                    data: entries(number),
                    ..Default::default()
                }]
                .into(),
                ..Default::default()
            };
            let out = scrubber.scrub_event(event);
            let fields = match out.contexts.get("fields") {
                Some(Context::Other(map)) => map.clone(),
                other => panic!("fields context: {other:?}"),
            };
            for (place, map) in [
                ("extra", &out.extra),
                ("fields", &fields),
                ("breadcrumb", &out.breadcrumbs.values[0].data),
            ] {
                for key in sensitive {
                    assert_eq!(map[key], Value::from("[Filtered]"), "{place}.{key}");
                }
                for key in plain {
                    assert_ne!(map[key], Value::from("[Filtered]"), "{place}.{key}");
                }
            }
            for key in sensitive {
                assert_eq!(out.tags[key], "[Filtered]", "tag {key}");
            }
            for key in plain {
                assert_eq!(out.tags[key], secret, "tag {key}");
            }
        }
    }

    /// What a direct capture can fill besides messages: fingerprint, thread names,
    /// exception module, mechanism description and link, frame source lines, function
    /// names and paths. Secrets there are replaced; code stays.
    #[test]
    fn direct_capture_parts_are_scrubbed() {
        use sentry_types::protocol::v7::{Exception, Frame, Mechanism, Stacktrace, Thread};
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let frame = Frame {
            function: Some("login password=HunterFN1".into()),
            context_line: Some("let token = \"ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\";".into()),
            pre_context: vec!["// mail bob.secret@example.com".into()],
            post_context: vec!["db(\"postgres://u:HunterPOST@db/x\")".into()],
            filename: Some("/home/alice/src/main.rs".into()),
            abs_path: Some("/home/alice/src/main.rs".into()),
            lineno: Some(7),
            ..Default::default()
        };
        let event = Event {
            message: Some("direct".into()),
            fingerprint: vec!["{{ default }}".into(), "bob.secret@example.com".into()].into(),
            threads: vec![Thread {
                name: Some("worker for bob.secret@example.com".into()),
                ..Default::default()
            }]
            .into(),
            exception: vec![Exception {
                ty: "DbError".into(),
                module: Some("postgres://u:HunterMOD@db".into()),
                mechanism: Some(Mechanism {
                    ty: "generic".into(),
                    description: Some("password=HunterMECH".into()),
                    help_link: Some(
                        "https://x.example.com/reset/AbCdEfGh12345678XyZ"
                            .parse()
                            .expect("URL"),
                    ),
                    ..Default::default()
                }),
                stacktrace: Some(Stacktrace {
                    frames: vec![frame],
                    ..Default::default()
                }),
                ..Default::default()
            }]
            .into(),
            ..Default::default()
        };
        let out = scrubber.scrub_event(event);
        let json = serde_json::to_string(&out).expect("serialises");
        for secret in [
            "HunterFN1",
            "ghp_AbCd",
            "bob.secret",
            "HunterPOST",
            "HunterMOD",
            "HunterMECH",
            "AbCdEfGh12345678XyZ",
            "alice",
        ] {
            assert!(!json.contains(secret), "{secret}: {json}");
        }
        assert_eq!(
            out.message.as_deref(),
            Some("direct"),
            "not withheld: {json}"
        );
        assert_eq!(out.fingerprint[0], "{{ default }}");
        let frame = &out.exception.values[0]
            .stacktrace
            .as_ref()
            .expect("kept")
            .frames[0];
        assert_eq!(frame.filename.as_deref(), Some("~/src/main.rs"));
        assert_eq!(frame.lineno, Some(7));
        assert!(json.contains("x.example.com"), "{json}");
    }

    /// A request URL with credentials, a one-time path token and a secret query value
    /// keeps its host and the report is sent, not withheld.
    #[test]
    fn a_request_url_is_scrubbed_and_kept_not_withheld() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        for raw in [
            "https://alice:Hunter2Secret@api.example.com/v1/orders?page=2",
            "https://api.example.com/v1/orders?access_token=Hunter2Secret&page=2",
            "https://api.example.com/reset/Hunter2SecretHunter2Secret?page=2",
            "postgres://svc:Hunter2Secret@db.internal:5432/app?page=2",
        ] {
            let event = Event {
                message: Some("checkout failed".into()),
                request: Some(sentry_types::protocol::v7::Request {
                    url: Some(raw.parse().expect("test URL parses")),
                    method: Some("GET".into()),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let out = scrubber.scrub_event(event);
            let json = serde_json::to_string(&out).expect("serialises");
            assert!(!json.contains("Hunter2Secret"), "{raw}: {json}");
            assert_eq!(
                out.message.as_deref(),
                Some("checkout failed"),
                "{raw}: {json}"
            );
            let url = out
                .request
                .as_ref()
                .and_then(|r| r.url.clone())
                .expect("URL kept");
            let host = raw
                .parse::<sentry_types::protocol::v7::Url>()
                .expect("parses");
            assert_eq!(url.host_str(), host.host_str(), "{raw}: {url}");
            assert!(filtered(&out).unwrap_or(0) >= 1, "{raw}: {json}");
        }
    }

    /// Texts repeat within a report and across reports: a text with a secret is
    /// replaced (and counted) every time, however often it was seen.
    #[test]
    fn a_repeated_secret_is_replaced_and_counted_every_time() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        for round in 0..4 {
            let crumb = |message: &str| Breadcrumb {
                category: Some("billing::checkout".into()),
                message: Some(message.into()),
                ..Default::default()
            };
            let event = Event {
                message: Some("login failed password=hunterREP1".into()),
                breadcrumbs: vec![
                    crumb("query done"),
                    crumb("retry with password=hunterREP2"),
                    crumb("query done"),
                    crumb("retry with password=hunterREP2"),
                ]
                .into(),
                ..Default::default()
            };
            let out = scrubber.scrub_event(event);
            let json = serde_json::to_string(&out).expect("serialises");
            assert!(!json.contains("hunterREP"), "round {round}: {json}");
            assert_eq!(filtered(&out), Some(3), "round {round}: {json}");
            assert_eq!(
                out.breadcrumbs.values[2].message.as_deref(),
                Some("query done")
            );
        }
    }

    /// Span names are the keys of the `spans` context: scrubbed as text, never as keys.
    #[test]
    fn span_names_in_the_spans_context_are_scrubbed_as_text() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let mut spans = sentry_types::protocol::v7::Map::new();
        spans.insert(
            "sql password=hunterSPANNAME".to_owned(),
            serde_json::json!({"db": "orders"}),
        );
        spans.insert("auth".to_owned(), serde_json::json!({"step": "verify"}));
        let mut event = Event::default();
        event
            .contexts
            .insert(SPANS_CONTEXT.to_owned(), Context::Other(spans));
        let out = serde_json::to_string(&scrubber.scrub_event(event)).expect("serialises");
        assert!(!out.contains("hunterSPANNAME"), "{out}");
        assert!(out.contains("\"sql password=[Filtered]\""), "{out}");
        assert!(
            out.contains("\"step\":\"verify\""),
            "a span named auth keeps its fields: {out}"
        );
    }

    #[test]
    fn an_event_without_secrets_survives_the_round_trip_unchanged() {
        use sentry_types::protocol::v7::{Breadcrumb, Exception, Level, User};
        // The wire carries seconds as a float: use times it represents exactly.
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_250);
        let mut event = Event {
            timestamp: at,
            level: Level::Error,
            message: Some("order 17 failed".into()),
            logger: Some("billing".into()),
            exception: vec![Exception {
                ty: "DbError".into(),
                value: Some("timed out".into()),
                ..Default::default()
            }]
            .into(),
            breadcrumbs: vec![Breadcrumb {
                timestamp: at,
                message: Some("loading".into()),
                ..Default::default()
            }]
            .into(),
            user: Some(User {
                id: Some("42".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.tags.insert("tenant_id".into(), "acme".into());
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        assert_eq!(scrubber.scrub_event(event.clone()), event);
    }

    #[test]
    fn exception_types_span_ops_categories_and_names_are_scrubbed_but_ordinary_ones_kept() {
        use sentry_types::protocol::v7::{Breadcrumb, Exception, TraceContext};
        let secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let event = Event {
            logger: Some(format!("svc::{secret}")),
            transaction: Some(format!("GET /reset/{secret}")),
            exception: vec![
                Exception {
                    ty: format!("Error({secret})"),
                    ..Default::default()
                },
                Exception {
                    ty: "DbError".into(),
                    ..Default::default()
                },
            ]
            .into(),
            breadcrumbs: vec![Breadcrumb {
                category: Some(format!("http {secret}")),
                ..Default::default()
            }]
            .into(),
            contexts: [(
                "trace".to_owned(),
                Context::Trace(Box::new(TraceContext {
                    op: Some(format!("token={secret}")),
                    ..Default::default()
                })),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let out = scrubber.scrub_event(event);
        let json = serde_json::to_string(&out).expect("serialises");
        assert!(!json.contains(secret), "{json}");
        assert_eq!(out.exception.values[1].ty, "DbError");
        assert!(out
            .logger
            .as_deref()
            .is_some_and(|l| l.starts_with("svc::")));
    }

    #[test]
    fn spans_named_like_secrets_keep_their_fields() {
        let mut spans = sentry_types::protocol::v7::Map::new();
        spans.insert(
            "auth".to_owned(),
            serde_json::json!({ "route": "/login", "password": "hunter2x9" }),
        );
        spans.insert("session".to_owned(), serde_json::json!({ "attempt": 3 }));
        let event = Event {
            contexts: [(SPANS_CONTEXT.to_owned(), Context::Other(spans))]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let json = serde_json::to_string(&scrubber.scrub_event(event)).expect("serialises");
        assert!(
            json.contains("/login") && json.contains("\"attempt\":3"),
            "{json}"
        );
        assert!(!json.contains("hunter2x9"), "{json}");
    }

    #[test]
    fn ids_that_pass_luhn_keep_user_and_tenant_attribution() {
        let id = "4111111111111111"; // passes Luhn, in the Visa range
        let mut event = Event {
            user: Some(sentry_types::protocol::v7::User {
                id: Some(id.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.tags.insert("tenant_id".into(), id.into());
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let out = scrubber.scrub_event(event);
        assert_eq!(out.tags.get("tenant_id").map(String::as_str), Some(id));
        assert_eq!(out.user.and_then(|u| u.id).as_deref(), Some(id));
    }

    #[test]
    fn a_tag_is_scrubbed_before_it_is_cut() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("defaults compile");
        let mut event = Event::default();
        event.tags.insert(
            "tenant_id".into(),
            format!("{}:postgres://app:pw12345@db", "t".repeat(190)),
        );
        let event = scrubber.scrub_event(event);
        let tag = event.tags.get("tenant_id").map_or("", String::as_str);
        assert!(
            tag.chars().count() <= MAX_TAG_CHARS && !tag.contains("pw1"),
            "{tag}"
        );
    }

    /// A field named `type` in any context is sent as `type_`, the one spelling of the
    /// reserved key, and the event still parses as an envelope item.
    #[test]
    fn a_reserved_context_key_is_renamed_the_one_way() {
        assert_eq!(context_key("type"), "type_");
        assert_eq!(context_key("kind"), "kind");
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let mut event = Event::default();
        let map: Map<String, Value> = [
            ("type".to_owned(), Value::from("card_declined")),
            ("plan".to_owned(), Value::from("pro")),
        ]
        .into_iter()
        .collect();
        event.contexts.insert(
            "billing".to_owned(),
            Context::Other(map.into_iter().collect()),
        );
        let event = scrubber.scrub_event(event);
        let Some(Context::Other(billing)) = event.contexts.get("billing") else {
            panic!("{:?}", event.contexts)
        };
        assert_eq!(billing.get("type_"), Some(&Value::from("card_declined")));
        assert!(!billing.contains_key("type") && !billing.contains_key("type_field"));
        let mut bytes = Vec::new();
        Envelope::from(event)
            .to_writer(&mut bytes)
            .expect("serialises");
        assert!(Envelope::from_slice(&bytes).is_ok());
    }

    /// The release, environment, server name and trace op are the same texts in every
    /// report: found clean, they are remembered and not scanned again; one holding a
    /// secret is scrubbed in every report, never remembered.
    #[test]
    fn per_process_texts_are_remembered_clean_and_secrets_scrubbed_every_time() {
        use sentry_types::protocol::v7::TraceContext;
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let token = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
        let event = |release: &str| {
            let mut event = Event {
                release: Some(release.to_owned().into()),
                environment: Some("production".into()),
                server_name: Some("checkout-7f9c".into()),
                ..Default::default()
            };
            let trace = TraceContext {
                op: Some("POST /checkout".into()),
                ..Default::default()
            };
            event
                .contexts
                .insert("trace".into(), Context::Trace(Box::new(trace)));
            event
        };
        for _ in 0..3 {
            let clean = scrubber.scrub_event(event("shop@1.4.2"));
            assert_eq!(clean.release.as_deref(), Some("shop@1.4.2"));
            assert_eq!(clean.environment.as_deref(), Some("production"));
            let Some(Context::Trace(trace)) = clean.contexts.get("trace") else {
                panic!("{:?}", clean.contexts)
            };
            assert_eq!(trace.op.as_deref(), Some("POST /checkout"));
            let secret = scrubber.scrub_event(event(&format!("shop@1.4.2+{token}")));
            let release = secret.release.as_deref().unwrap_or_default();
            assert!(!release.contains(token), "{release}");
            assert_eq!(filtered(&secret), Some(1));
        }
        for text in [
            "shop@1.4.2",
            "production",
            "checkout-7f9c",
            "POST /checkout",
        ] {
            assert!(scrubber.clean.contains(text), "{text} not remembered");
        }
        assert!(!scrubber.clean.contains(&format!("shop@1.4.2+{token}")));
    }
}
