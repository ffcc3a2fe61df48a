//! Flows documents: loading any text never panics, and a loaded flow can be started and
//! advanced with the same text.
#![no_main]

use switchboard::domain::Language;
use switchboard::flows::{advance, start, FlowSet, Input};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = FlowSet::from_toml(text) else {
        return;
    };
    for flow in set.iter() {
        let step = start(flow, text, Language::Zh);
        if let Some(state) = step.state {
            advance(flow, state, Input::Text(text), Language::En);
        }
    }
});
