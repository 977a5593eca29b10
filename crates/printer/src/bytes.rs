//! Byte counts for people: decimal units (kB, MB, GB), as Chrome DevTools shows them, so the
//! same heap reads the same in both tools.

/// `1234` → `1.2 kB`, `52_400_000` → `52.4 MB`, `999` → `999 B`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A signed byte delta: `+1.2 MB`, `−300 B`, `0 B`.
pub fn format_bytes_delta(delta: i64) -> String {
    match delta {
        0 => "0 B".into(),
        d if d > 0 => format!("+{}", format_bytes(d as u64)),
        d => format!("−{}", format_bytes(d.unsigned_abs())),
    }
}

/// `1234567` → `1,234,567`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses `2KB`, `1.5 MB`, `300`, `4kib`: decimal units by default, binary with `i`.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a size like 2KB or 1.5MB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "'{text}': unknown unit '{other}' (use B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    Ok((value * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_devtools() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1000), "1.0 kB");
        assert_eq!(format_bytes(10_240), "10.2 kB");
        assert_eq!(format_bytes(123_456), "123 kB");
        assert_eq!(format_bytes(52_400_000), "52.4 MB");
        assert_eq!(format_bytes(999_999), "1.0 MB");
        assert_eq!(format_bytes(1_030_000_000), "1.0 GB");
    }

    #[test]
    fn counts_get_separators() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(13_200_000), "13,200,000");
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_bytes("2KB"), Ok(2000));
        assert_eq!(parse_bytes("1.5 MB"), Ok(1_500_000));
        assert_eq!(parse_bytes("300"), Ok(300));
        assert_eq!(parse_bytes("4KiB"), Ok(4096));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("3 parsecs").is_err());
    }
}
