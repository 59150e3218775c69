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
use std::sync::Mutex;

use rustc_hash::FxHashSet;
use sentry::protocol::{
    Breadcrumb, Context, DeviceContext, Event, Exception, Frame, Map, Mechanism, OsContext,
    Request, RuntimeContext, Span, Stacktrace, Thread, Transaction, Url, User, Value,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{is_digits, is_id_key, ScrubReport, Scrubber, MAX_DEPTH, MAX_TAG_CHARS, TRACE_KEYS};
use crate::fields::{cut_at, MAX_VALUE_BYTES};

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

/// Longest text remembered as clean, in bytes.
const CLEAN_TEXT_BYTES: usize = 256;
/// Texts remembered as clean at most; the set starts over when full.
const CLEAN_TEXTS: usize = 2048;

/// Short texts in which the scrubber found nothing, remembered across reports: much of a
/// report is the same from one report to the next (the os, runtime and device contexts,
/// the location, logger, span names, exception types, breadcrumb categories and constant
/// messages). A text is remembered the second time it is found clean (the first time
/// only its hash is noted), so texts that never repeat (ids, counts) cost no copy. Only
/// texts found clean are kept, so nothing here is a secret; the verdict depends on the
/// text and the rules alone, both fixed for a `Scrubber`. At most [`CLEAN_TEXTS`] texts
/// of at most [`CLEAN_TEXT_BYTES`] bytes (512 KiB of text) and `4 * CLEAN_TEXTS` hashes;
/// each set starts over when full.
#[derive(Default)]
pub(super) struct CleanTexts(Mutex<Remembered>);

#[derive(Default)]
struct Remembered {
    texts: FxHashSet<Box<str>>,
    /// Hashes of texts found clean once (a collision only remembers a clean text early).
    seen_once: FxHashSet<u64>,
}

impl std::fmt::Debug for CleanTexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanTexts").finish_non_exhaustive()
    }
}

impl CleanTexts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn contains(&self, text: &str) -> bool {
        text.len() <= CLEAN_TEXT_BYTES && self.lock().texts.contains(text)
    }

    /// Notes that `text` was found clean.
    fn insert(&self, text: &str) {
        if text.len() > CLEAN_TEXT_BYTES {
            return;
        }
        let hash = {
            use std::hash::BuildHasher;
            rustc_hash::FxBuildHasher.hash_one(text)
        };
        let mut remembered = self.lock();
        if remembered.seen_once.insert(hash) {
            if remembered.seen_once.len() > CLEAN_TEXTS * 4 {
                remembered.seen_once.clear();
            }
            return;
        }
        if remembered.texts.len() >= CLEAN_TEXTS {
            remembered.texts.clear();
        }
        remembered.texts.insert(text.into());
    }
}

/// A part that cannot be scrubbed and still be of its type: the item is withheld.
#[derive(Debug)]
pub(super) struct Withheld;

/// What a field name means to the scrubber, taken once per distinct name.
#[derive(Clone, Copy)]
struct KeyVerdict {
    safe: bool,
    sensitive: bool,
    id: bool,
}

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
            release: _,
            dist: _,
            environment: _,
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
            release: _,
            environment: _,
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
                let verdict = match same_key {
                    Some((_, (verdict, _))) => *verdict,
                    None => KeyVerdict {
                        safe: self.keys.is_safe(key),
                        sensitive: self.keys.is_sensitive(key),
                        id: is_id_key(key),
                    },
                };
                let mut clean = false;
                if verdict.safe || (verdict.id && !verdict.sensitive && is_digits(value)) {
                    // Kept as it is.
                } else if verdict.sensitive {
                    if !matches!(value, Value::Null) && value.as_str() != Some("") {
                        *value = Value::String(self.replacement.clone());
                        report.add("@key");
                    }
                } else if let Value::String(text) = value {
                    let whole = text.len() <= MAX_VALUE_BYTES;
                    clean = (matches!(same_key, Some(((_, Value::String(p)), (_, true))) if p == text)
                        || self.scrub_text_remembering(text, report))
                        && whole;
                    cut_at(text, MAX_VALUE_BYTES);
                } else {
                    self.scrub_value_at(value, report, 2);
                }
                entries.push((verdict, clean));
            }
            std::mem::swap(&mut prev_entries, &mut entries);
        }
    }

    /// A text of a report (below [`MAX_DEPTH`]): scrubbed unless known clean, then cut.
    pub(super) fn scrub_report_text(&self, text: &mut String, report: &mut ScrubReport) {
        self.scrub_text_remembering(text, report);
        cut_at(text, MAX_VALUE_BYTES);
    }

    /// Scrubs `text` unless it is known clean, remembering it when it is; whether it was.
    pub(super) fn scrub_text_remembering(
        &self,
        text: &mut String,
        report: &mut ScrubReport,
    ) -> bool {
        if self.clean.contains(text) {
            return true;
        }
        match self.scrub_str(text, report) {
            Cow::Owned(scrubbed) => {
                *text = scrubbed;
                false
            }
            Cow::Borrowed(_) => {
                self.clean.insert(text);
                true
            }
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

    /// A top-level text held as a `Cow` (the server name).
    fn scrub_cow_text(&self, text: &mut Cow<'static, str>, report: &mut ScrubReport) {
        let scrubbed = match self.scrub_str(text, report) {
            Cow::Owned(scrubbed) => scrubbed,
            Cow::Borrowed(_) if text.len() <= MAX_VALUE_BYTES => return,
            Cow::Borrowed(same) => same.to_owned(),
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
        let sensitive = self.keys.is_sensitive(key);
        if self.keys.is_safe(key) || (!sensitive && is_id_key(key) && super::all_digits(text)) {
            return;
        }
        if sensitive {
            if !text.is_empty() {
                *text = self.replacement.clone();
                report.add("@key");
            }
            return;
        }
        self.scrub_text_at(text, report, depth + 1);
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
                let short = super::short_source_path(path);
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

#[cfg(test)]
mod tests {
    use sentry::protocol::{Breadcrumb, Context, Event, Map, Value};

    use super::{CLEAN_TEXTS, CLEAN_TEXT_BYTES};
    use crate::scrub::{ScrubRules, Scrubber, SCRUB_CONTEXT};

    fn filtered(event: &Event<'static>) -> Option<u64> {
        match event.contexts.get(SCRUB_CONTEXT)? {
            sentry::protocol::Context::Other(map) => map.get("filtered")?.as_u64(),
            _ => None,
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
        use sentry::protocol::{Exception, Frame, Mechanism, Stacktrace, Thread};
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
                request: Some(sentry::protocol::Request {
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
            let host = raw.parse::<sentry::protocol::Url>().expect("parses");
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

    /// The memory of clean texts is bounded in count and length, and holds only texts in
    /// which nothing was found.
    #[test]
    fn only_short_clean_texts_are_remembered_and_never_too_many() {
        let scrubber = Scrubber::new(&ScrubRules::default()).expect("default rules");
        let long = "x".repeat(CLEAN_TEXT_BYTES + 1);
        for _ in 0..2 {
            for i in 0..CLEAN_TEXTS + 10 {
                scrubber.clean.insert(&format!("step {i}"));
            }
            scrubber.clean.insert(&long);
            let mut report = crate::scrub::ScrubReport::default();
            let mut secret = String::from("token=hunterMEM1");
            scrubber.scrub_report_text(&mut secret, &mut report);
            assert_eq!(report.total(), 1);
        }
        let remembered = scrubber.clean.lock();
        assert!(
            remembered.texts.len() <= CLEAN_TEXTS,
            "{}",
            remembered.texts.len()
        );
        assert!(remembered.seen_once.len() <= CLEAN_TEXTS * 4 + 1);
        assert!(remembered.texts.iter().all(|t| t.len() <= CLEAN_TEXT_BYTES));
        assert!(remembered.texts.iter().all(|t| !t.contains("hunter")));
        // Seen twice: remembered.
        assert!(remembered.texts.contains("step 5") || remembered.texts.contains("step 2049"));
    }
}
