//! The little the server reads from an SDP offer itself (everything else is str0m's job).

/// How many video sections of an offer send media from the offerer: not rejected (port 0) and
/// `sendrecv` (the default) or `sendonly`. A camera with simulcast is one section; a screen
/// share is another.
pub(crate) fn sending_video_sections(sdp: &str) -> usize {
    let mut count = 0;
    let mut current: Option<(bool, bool)> = None; // (is live video, sends)
    let mut finish = |section: Option<(bool, bool)>| {
        if let Some((true, true)) = section {
            count += 1;
        }
    };
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            finish(current.take());
            let mut fields = m.split_ascii_whitespace();
            let video = fields.next() == Some("video");
            let live = fields.next().is_some_and(|port| port != "0");
            current = Some((video && live, true));
        } else if let Some((_, sends)) = current.as_mut() {
            match line {
                "a=recvonly" | "a=inactive" => *sends = false,
                "a=sendrecv" | "a=sendonly" => *sends = true,
                _ => {}
            }
        }
    }
    finish(current);
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_live_sending_video_sections_only() {
        let offer = "v=0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\na=simulcast:send q;h;f\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n\
            m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=inactive\r\n";
        assert_eq!(sending_video_sections(offer), 1);
        let with_screen = format!("{offer}m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:4\r\n");
        assert_eq!(
            sending_video_sections(&with_screen),
            2,
            "no direction = sendrecv"
        );
        assert_eq!(sending_video_sections(""), 0);
        assert_eq!(sending_video_sections("m=video"), 0);
    }
}
