//! The filter's log lines (info and above) collected instead of printed, so `explain`
//! can report them as notes (key set loaded, fetch failed, report-mode verdicts).

use std::sync::Mutex;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Collector;

impl log::Log for Collector {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            if let Ok(mut lines) = LINES.lock() {
                lines.push(format!(
                    "filter log ({}): {}",
                    record.level(),
                    record.args()
                ));
            }
        }
    }

    fn flush(&self) {}
}

static COLLECTOR: Collector = Collector;

/// Routes the core's `log` output here.
pub fn install() {
    if log::set_logger(&COLLECTOR).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// The lines collected so far, removed.
pub fn take() -> Vec<String> {
    LINES
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}
