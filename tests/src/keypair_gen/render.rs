//! Writing a certificate or key file from its parts, in the many ways such files are found on
//! disk: PEM blocks with or without headers, lines of any width, LF or CRLF, trailing spaces,
//! blank lines inside the body, text around the blocks, no final newline; or raw DER.

use base64::Engine;

use crate::prng::Rng;

/// One part of a file.
#[derive(Debug, Clone)]
pub enum Item {
    /// Text between blocks, as written (its own line breaks included).
    Text(String),
    /// A PEM block: its label, RFC 1421 headers (`Proc-Type`, any `Key: value`), its DER.
    Block {
        /// The label between `BEGIN ` and the dashes.
        label: String,
        /// Header lines, in order.
        headers: Vec<(String, String)>,
        /// The body's bytes.
        der: Vec<u8>,
    },
}

impl Item {
    /// A block without headers.
    pub fn block(label: &str, der: Vec<u8>) -> Item {
        Item::Block {
            label: label.to_string(),
            headers: Vec::new(),
            der,
        }
    }
}

/// How the text of a file is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// Base64 characters per line (64 as openssl writes, 76 as MIME does, or one long line).
    pub width: usize,
    /// `\r\n` line endings instead of `\n`.
    pub crlf: bool,
    /// Spaces or tabs at the end of some lines.
    pub trailing_blanks: bool,
    /// Blank lines inside block bodies.
    pub blank_lines: bool,
    /// Spaces before some body lines.
    pub indented_body: bool,
    /// A blank line after the headers, as RFC 1421 writes it.
    pub blank_after_headers: bool,
    /// The last line has no line break.
    pub no_final_newline: bool,
}

impl Style {
    /// openssl's layout.
    pub fn plain() -> Style {
        Style {
            width: 64,
            crlf: false,
            trailing_blanks: false,
            blank_lines: false,
            indented_body: false,
            blank_after_headers: true,
            no_final_newline: false,
        }
    }

    /// A random layout, openssl's half of the time.
    pub fn random(rng: &mut Rng) -> Style {
        if rng.chance(50) {
            return Style::plain();
        }
        Style {
            width: *rng.pick(&[64, 64, 76, 4, 10_000]),
            crlf: rng.chance(25),
            trailing_blanks: rng.chance(15),
            blank_lines: rng.chance(10),
            indented_body: rng.chance(10),
            blank_after_headers: rng.chance(70),
            no_final_newline: rng.chance(20),
        }
    }

    /// What differs from openssl's layout, for a case's description.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.width != 64 {
            parts.push(format!("width {}", self.width));
        }
        for (on, what) in [
            (self.crlf, "CRLF"),
            (self.trailing_blanks, "trailing blanks"),
            (self.blank_lines, "blank lines in body"),
            (self.indented_body, "indented body"),
            (!self.blank_after_headers, "no blank after headers"),
            (self.no_final_newline, "no final newline"),
        ] {
            if on {
                parts.push(what.to_string());
            }
        }
        parts.join(", ")
    }
}

/// The text of `items` laid out in `style`.
pub fn render(items: &[Item], style: &Style, rng: &mut Rng) -> Vec<u8> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match item {
            Item::Text(text) => lines.extend(text.lines().map(str::to_string)),
            Item::Block {
                label,
                headers,
                der,
            } => {
                lines.push(format!("-----BEGIN {label}-----"));
                for (k, v) in headers {
                    lines.push(format!("{k}: {v}"));
                }
                if !headers.is_empty() && style.blank_after_headers {
                    lines.push(String::new());
                }
                let b64 = base64::engine::general_purpose::STANDARD.encode(der);
                let chunks: Vec<&str> = b64
                    .as_bytes()
                    .chunks(style.width)
                    .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
                    .collect();
                for (i, chunk) in chunks.iter().enumerate() {
                    let indent = if style.indented_body && rng.chance(30) {
                        *rng.pick(&[" ", "  ", "\t"])
                    } else {
                        ""
                    };
                    lines.push(format!("{indent}{chunk}"));
                    if style.blank_lines && i + 1 < chunks.len() && rng.chance(20) {
                        lines.push(String::new());
                    }
                }
                lines.push(format!("-----END {label}-----"));
            }
        }
    }
    let eol = if style.crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        if style.trailing_blanks && rng.chance(30) {
            let blank = *rng.pick(&[" ", "  ", "\t", " \t"]);
            out.push_str(blank);
        }
        if i + 1 < lines.len() || !style.no_final_newline {
            out.push_str(eol);
        }
    }
    out.into_bytes()
}
