//! Fuzzes version translation on events of any embedded release (the selector byte, see
//! `engines.rs`) to either target. Invariants: no panic; a translated event is at the target;
//! translating it again changes nothing; the whole verdict on it does not panic either.
#![no_main]

#[path = "engines.rs"]
mod engines;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((target, event)) = engines::event(input) else {
        return;
    };
    let engine = engines::engine(target);
    let mut translated = event.clone();
    let translation = engine.translate(&mut translated);
    if translation.source.is_some() {
        assert_eq!(translated["metadata"]["version"], target.as_str());
    }
    let mut again = translated.clone();
    let second = engine.translate(&mut again);
    assert!(second.actions.is_empty(), "translating twice acted: {:?}", second.actions);
    assert_eq!(again, translated, "translating twice changed the event");
    let _ = engine.judge(event, Some("us-east-1"));
});
