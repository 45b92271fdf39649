//! Markdown and self-contained HTML rendering of the report's sections.

use super::Section;

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown.
pub fn markdown(title: &str, sections: &[Section]) -> String {
    let mut out = format!("# {title}\n");
    for s in sections {
        out.push_str(&format!("\n## {}\n\n", s.heading));
        for p in &s.paragraphs {
            out.push_str(p);
            out.push_str("\n\n");
        }
        if let Some((headers, rows)) = &s.table {
            out.push_str(&format!("| {} |\n", headers.join(" | ")));
            out.push_str(&format!("|{}\n", "---|".repeat(headers.len())));
            for row in rows {
                let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.45}\
h1{border-bottom:3px solid #2b6cb0;padding-bottom:.3rem}h2{margin-top:2rem;color:#2b4a6f}\
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.5rem 0}th,td{border:1px solid #cbd5e0;padding:.35rem .5rem;vertical-align:top;text-align:left}\
th{background:#edf2f7}tr:nth-child(even) td{background:#f9fafb}pre{background:#f4f4f4;padding:.7rem;overflow:auto}\
.st{font-weight:600;white-space:nowrap;border-radius:4px;padding:.1rem .4rem}.enforced{background:#c6f6d5}.configured{background:#bee3f8}.partly{background:#fefcbf}.not{background:#fed7d7}";

fn status_class(cell: &str) -> Option<&'static str> {
    match cell {
        "enforced" => Some("enforced"),
        "configured" => Some("configured"),
        "partly built" => Some("partly"),
        "not yet built" => Some("not"),
        _ => None,
    }
}

/// Self-contained HTML: inline CSS, no scripts, no external resources.
pub fn html(title: &str, sections: &[Section]) -> String {
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = esc(title)
    );
    for s in sections {
        out.push_str(&format!("<h2>{}</h2>", esc(&s.heading)));
        for p in &s.paragraphs {
            match p.strip_prefix("```\n").and_then(|p| p.strip_suffix("```")) {
                Some(code) => out.push_str(&format!("<pre>{}</pre>", esc(code))),
                None => out.push_str(&format!("<p>{}</p>", esc(p))),
            }
        }
        if let Some((headers, rows)) = &s.table {
            out.push_str("<table><thead><tr>");
            for h in headers {
                out.push_str(&format!("<th>{}</th>", esc(h)));
            }
            out.push_str("</tr></thead><tbody>");
            for row in rows {
                out.push_str("<tr>");
                for c in row {
                    match status_class(c) {
                        Some(class) => out.push_str(&format!(
                            "<td><span class=\"st {class}\">{}</span></td>",
                            esc(c)
                        )),
                        None => out.push_str(&format!("<td>{}</td>", esc(c))),
                    }
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>");
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_self_contained() {
        let s = vec![Section {
            heading: "a<b".into(),
            paragraphs: vec!["x & y".into()],
            table: Some((vec!["h".into()], vec![vec!["enforced".into()]])),
        }];
        let h = html("T", &s);
        assert!(h.contains("a&lt;b") && h.contains("x &amp; y"));
        assert!(!h.contains("http://") && !h.contains("https://") && !h.contains("<script"));
        assert!(markdown("T", &s).contains("| enforced |"));
    }
}
