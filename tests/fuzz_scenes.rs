//! A fuzz harness over the scene loader and validator (issue #19), on stable Rust: structured
//! mutations of every shipped scene (numbers replaced by boundary values, tokens dropped,
//! duplicated or swapped, fields renamed, text cut short or spliced) go through
//! `Scene::parse`, `Scene::budget`, `Scene::check_memory` and `Scene::warnings`; those that pass
//! and are small are built and stepped. Nothing may panic, and nothing may allocate by a size
//! the checks did not bound (an allocation failure aborts the process, which fails the test).
//!
//! The test runs 20 000 inputs. The long run is
//!
//! ```text
//! BIOSPIKE_FUZZ_INPUTS=1000000 cargo test --release --test fuzz_scenes -- --nocapture
//! ```
//!
//! and prints the inputs run, how many parsed, how many were built, and the slowest input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use biospike::Scene;
use biospike::scene::EMBEDDED;

/// Boundary values a number is replaced by.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.0",
    "-0.0",
    "1e-9",
    "1e300",
    "-1e300",
    "1.7e308",
    "NaN",
    "inf",
    "-inf",
    "255",
    "256",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999",
    "500.0",
    "2.5",
    "1000000",
    "100000000",
];

/// Field names spliced in place of others.
const NAMES: &[&str] = &[
    "size",
    "k",
    "m",
    "p",
    "dt_ms",
    "time_steps",
    "seed",
    "weight",
    "delay_ms",
    "bins",
    "every_steps",
    "neurons",
    "synapses",
    "low",
    "high",
    "v_substeps",
    "rate_hz",
    "tau_ms",
    "at_ms",
    "amount",
    "w_max",
    "learning_rate",
    "name",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte ranges of the tokens of `text`: numbers, identifiers, strings, punctuation.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c.is_ascii_digit() || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_' || b[i] == b'-' || b[i] == b'+') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i = (i + 1).min(b.len());
        } else {
            i += 1;
            while i < b.len() && !text.is_char_boundary(i) {
                i += 1;
            }
        }
        out.push((start, i));
    }
    out
}

/// One structured mutation of `text` (1–3 edits).
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut s = text.to_string();
    for _ in 0..1 + rng.below(3) {
        let toks = tokens(&s);
        if toks.is_empty() {
            break;
        }
        let numbers: Vec<_> = toks.iter().copied().filter(|&(a, _)| s.as_bytes()[a].is_ascii_digit() || s.as_bytes()[a] == b'-').collect();
        let idents: Vec<_> = toks.iter().copied().filter(|&(a, _)| s.as_bytes()[a].is_ascii_alphabetic()).collect();
        let (a, b) = toks[rng.below(toks.len())];
        s = match rng.below(9) {
            0 | 1 if !numbers.is_empty() => {
                let (a, b) = numbers[rng.below(numbers.len())];
                format!("{}{}{}", &s[..a], NUMBERS[rng.below(NUMBERS.len())], &s[b..])
            }
            2 if !idents.is_empty() => {
                let (a, b) = idents[rng.below(idents.len())];
                format!("{}{}{}", &s[..a], NAMES[rng.below(NAMES.len())], &s[b..])
            }
            3 => format!("{}{}", &s[..a], &s[b..]),
            4 => format!("{}{}{}", &s[..b], &s[a..b], &s[b..]),
            5 => {
                let (c, d) = toks[rng.below(toks.len())];
                if (c, d) == (a, b) || c < b && a < d {
                    s
                } else {
                    let (first, second) = if a < c { ((a, b), (c, d)) } else { ((c, d), (a, b)) };
                    format!(
                        "{}{}{}{}{}",
                        &s[..first.0],
                        &s[second.0..second.1],
                        &s[first.1..second.0],
                        &s[first.0..first.1],
                        &s[second.1..]
                    )
                }
            }
            6 => s[..a].to_string(),
            7 => {
                let junk = ["(", ")", "[", "]", ",", ":", "Some(", "\"", "\u{feff}", "é", "\0", "/*", "//", "#"];
                format!("{}{}{}", &s[..a], junk[rng.below(junk.len())], &s[a..])
            }
            _ => {
                // Splice a token range from elsewhere in the scene.
                let (c, d) = toks[rng.below(toks.len())];
                let end = toks.iter().map(|t| t.1).filter(|&e| e >= d).nth(rng.below(6)).unwrap_or(d);
                format!("{}{}{}", &s[..a], &s[c..end], &s[a..])
            }
        };
    }
    s
}

struct Report {
    inputs: u64,
    parsed: u64,
    built: u64,
    slowest: Duration,
    slowest_input: String,
}

fn fuzz(inputs: u64, seed: u64) -> Report {
    let mut rng = Rng(seed | 1);
    let mut r = Report { inputs: 0, parsed: 0, built: 0, slowest: Duration::ZERO, slowest_input: String::new() };
    for i in 0..inputs {
        let (name, base) = EMBEDDED[(i % EMBEDDED.len() as u64) as usize];
        let text = mutate(base, &mut rng);
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let Ok(scene) = Scene::parse(&text, format!("<fuzz {name} {i}>").as_ref()) else { return (false, false) };
            let budget = scene.budget(scene.desc.time_steps);
            let _ = scene.warnings(scene.desc.time_steps);
            let _ = budget.output_line();
            if scene.check_memory().is_err() {
                return (true, false);
            }
            // Small networks are built and stepped a few times: the build and the first steps
            // must not panic either (a halt or a build error is a fine outcome).
            if budget.memory_bytes < 8 << 20 && budget.synapses < 100_000 {
                if let Ok(app) = biospike::build_app(&scene, None) {
                    let mut sim = biospike::Simulation::new(app);
                    sim.step(3);
                    sim.finish();
                }
                return (true, true);
            }
            (true, false)
        }));
        let dt = t0.elapsed();
        match outcome {
            Ok((parsed, built)) => {
                r.parsed += u64::from(parsed);
                r.built += u64::from(built);
            }
            Err(_) => panic!("input {i} (mutated {name}) panicked:\n{text}"),
        }
        if dt > r.slowest {
            r.slowest = dt;
            r.slowest_input = text;
        }
        r.inputs += 1;
    }
    r
}

#[test]
fn mutated_scenes_never_panic_or_hang() {
    let inputs = std::env::var("BIOSPIKE_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let seed = std::env::var("BIOSPIKE_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    let t0 = Instant::now();
    let r = fuzz(inputs, seed);
    println!(
        "fuzz: {} inputs in {:.1} s, {} parsed and validated, {} built and stepped, no panic; slowest {:.1} ms",
        r.inputs,
        t0.elapsed().as_secs_f64(),
        r.parsed,
        r.built,
        r.slowest.as_secs_f64() * 1e3
    );
    // A hang, not a speed goal: no single input may take anywhere near a second's worth of work
    // (the limit is generous for a debug build on a loaded CI machine).
    assert!(r.slowest < Duration::from_secs(10), "input took {:?}:\n{}", r.slowest, r.slowest_input);
    assert!(r.parsed > r.inputs / 50, "the mutations must leave some scenes valid ({} of {})", r.parsed, r.inputs);
}

#[test]
fn the_tokenizer_covers_the_scene() {
    let (_, text) = EMBEDDED[0];
    let toks = tokens(text);
    let joined: String = toks.iter().map(|&(a, b)| &text[a..b]).collect();
    let expected: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(joined.chars().filter(|c| !c.is_whitespace()).collect::<String>(), expected);
}
