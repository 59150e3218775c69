//! Attack, family 3: the process's end with Sentry hanging. Child processes of this test
//! binary: process::exit, a main-thread panic, and return from main with the guard leaked.

mod common;

use std::time::{Duration, Instant};

use tracing_error_reports::testing::{Behaviour, SentryReceiver};
use tracing_subscriber::prelude::*;

fn child_body(mode: &str) {
    let dsn = std::env::var("ATTACK_DSN").unwrap();
    let config = tracing_error_reports::Config::builder().dsn(dsn).build().unwrap();
    let (layer, guard) = tracing_error_reports::init(config);
    tracing_subscriber::registry().with(layer).init();
    for i in 0..3 {
        let span = tracing::info_span!("request", tenant_id = "acme");
        let _e = span.enter();
        tracing::error!("child report {i} token=ghp_Zk3mQ9vXw2Lp8RtY4nBc6HdF1jS7aE0uGqPo");
    }
    match mode {
        "exit" => {
            std::mem::forget(guard);
            std::process::exit(3)
        }
        "panic" => panic!("main thread panic password=Hunter2!x"),
        "drop" => drop(guard),
        _ => {}
    }
}

fn run_child(test: &str, behaviour: Behaviour) -> (Duration, Option<i32>, String, usize) {
    let receiver = SentryReceiver::start().unwrap();
    receiver.set_behaviour(behaviour);
    let start = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("ATTACK_CHILD", "1")
        .env("ATTACK_DSN", receiver.dsn())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // kill after 15 s: a hang
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            break Some(-999);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = start.elapsed();
    let mut err = String::new();
    use std::io::Read;
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let n = receiver.received().len();
    (took, code, err, n)
}

macro_rules! child_test {
    ($name:ident, $mode:expr, $behaviour:expr) => {
        #[test]
        fn $name() {
            if std::env::var("ATTACK_CHILD").is_ok() {
                child_body($mode);
                return;
            }
            let (took, code, err, n) = run_child(stringify!($name), $behaviour);
            let err_lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("   ") && !l.trim().is_empty()).collect();
            println!("{}: exited {:?} after {:?}; {} envelopes reached Sentry; stderr: {:?}", stringify!($name), code, took, n, err_lines);
            assert!(took < Duration::from_secs(5), "process end took {took:?}");
            assert!(!err.contains("ghp_Zk3mQ9vXw2Lp8RtY4nBc6HdF1jS7aE0uGqPo") && !err.contains("Hunter2!x"), "secret on stderr");
        }
    };
}

child_test!(exit_with_hanging_sentry, "exit", Behaviour::Hang);
child_test!(panic_with_hanging_sentry, "panic", Behaviour::Hang);
child_test!(drop_with_hanging_sentry, "drop", Behaviour::Hang);
child_test!(return_with_hanging_sentry, "return", Behaviour::Hang);
child_test!(exit_with_slow_sentry, "exit", Behaviour::Delay(Duration::from_millis(1500)));
child_test!(panic_with_429, "panic", Behaviour::Status(429, vec![("Retry-After".into(), "60".into())]));
