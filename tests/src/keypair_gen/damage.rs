//! Damage done to a written file, as copying, editing and truncation do it: a file cut short, a
//! base64 character replaced, a body line lost, an indented BEGIN line, an END line of another
//! label.

use crate::prng::Rng;

/// Damages `file` in one random way; returns what was done.
pub fn damage(file: &mut Vec<u8>, rng: &mut Rng) -> &'static str {
    let text = String::from_utf8_lossy(file).into_owned();
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let body: Vec<usize> = body_lines(&lines);
    let begins: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("-----BEGIN "))
        .collect();
    let ends: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("-----END "))
        .collect();
    let what = match rng.below(5) {
        0 if !body.is_empty() => {
            let i = *rng.pick(&body);
            let chars: Vec<char> = lines[i].chars().collect();
            let at = rng
                .below(chars.len().max(1))
                .min(chars.len().saturating_sub(1));
            let bad = *rng.pick(&['*', '.', '-', '_', '=', '!', ' ']);
            lines[i] = chars
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    if j == at && !c.is_whitespace() {
                        bad
                    } else {
                        *c
                    }
                })
                .collect();
            "a base64 character replaced"
        }
        1 if !body.is_empty() => {
            lines.remove(*rng.pick(&body));
            "a body line lost"
        }
        2 if !begins.is_empty() => {
            let i = *rng.pick(&begins);
            let prefix = *rng.pick(&[" ", "\t", "x"]);
            lines[i].insert_str(0, prefix);
            "BEGIN line indented"
        }
        3 if !ends.is_empty() => {
            let i = *rng.pick(&ends);
            lines[i] = lines[i].replacen("-----END ", "-----END X", 1);
            "END line of another label"
        }
        _ => {
            if !file.is_empty() {
                let cut = rng.range(file.len() / 2, file.len() - 1);
                file.truncate(cut);
            }
            return "file truncated";
        }
    };
    *file = lines.concat().into_bytes();
    what
}

/// The indexes of lines inside a block that are neither headers nor blank.
fn body_lines(lines: &[String]) -> Vec<usize> {
    let mut inside = false;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("-----BEGIN ") {
            inside = true;
        } else if line.starts_with("-----END ") {
            inside = false;
        } else if inside && !line.contains(':') && !line.trim().is_empty() {
            out.push(i);
        }
    }
    out
}
