use super::*;

/// Scans `text` from the start of an array (just after `[`).
fn scan(text: &str) -> Result<(Vec<u64>, ScanState, usize), (Bad, usize)> {
    let mut out = Vec::new();
    let mut state = ScanState::default();
    let stop = scan_uints(
        text.as_bytes(),
        0,
        &mut state,
        &mut |v| {
            out.push(v);
            Ok(())
        },
        |b, at| (b, at),
    )?;
    Ok((out, state, stop))
}

fn scan_all(text: &str) -> (Vec<u64>, Carry, usize) {
    let (out, state, stop) = scan(text).unwrap();
    (out, state.carry, stop)
}

/// Long enough for the 64-byte chunks, with the fault `at` bytes in.
fn padded(at: usize, fault: &str) -> (String, usize) {
    let mut text = String::new();
    while text.len() < at {
        text.push_str("7,");
    }
    let pos = text.len();
    text.push_str(fault);
    while text.len() < at + 300 {
        text.push_str(",7");
    }
    text.push(']');
    (text, pos)
}

#[test]
fn reads_numbers_of_every_length() {
    let mut text = String::new();
    let mut want = Vec::new();
    let mut v = 0u64;
    for digits in 1..=19 {
        v = v * 10 + (digits % 10) as u64;
        want.push(v);
        text.push_str(&v.to_string());
        text.push_str(match digits % 3 {
            0 => ",\n",
            1 => "\n,",
            _ => ",",
        });
    }
    text.push_str("0]");
    want.push(0);
    let (got, carry, stop) = scan_all(&text);
    assert_eq!(got, want);
    assert_eq!(carry, Carry::default());
    assert_eq!(&text[stop..], "]");
}

#[test]
fn leaves_a_cut_number_in_the_carry() {
    let (got, carry, stop) = scan_all("1,22,3334");
    assert_eq!(got, vec![1, 22]);
    assert_eq!(
        carry,
        Carry {
            value: 3334,
            digits: 4
        }
    );
    assert_eq!(stop, 9);
    let mut c = carry;
    c.extend(Carry {
        value: 5,
        digits: 1,
    })
    .unwrap();
    assert_eq!(c.value, 33345);
}

#[test]
fn zero_digits_inside_a_cut_number_count() {
    // "10" + "05" is 1005, not 105.
    let mut c = Carry {
        value: 10,
        digits: 2,
    };
    c.extend(Carry {
        value: 5,
        digits: 2,
    })
    .unwrap();
    assert_eq!(c.value, 1005);
}

#[test]
fn rejects_twenty_digits() {
    assert_eq!(scan("123456789012345678901,").unwrap_err().0, Bad::TooLong);
    let (text, at) = padded(200, "123456789012345678901");
    assert_eq!(scan(&text).unwrap_err(), (Bad::TooLong, at));
}

#[test]
fn separators_and_leading_zeros_follow_json() {
    for (fault, bad, offset) in [
        ("1 2", Bad::MissingComma, 2),
        ("1\n \n2", Bad::MissingComma, 4),
        ("1,,2", Bad::ExtraComma, 2),
        ("1, \n,2", Bad::ExtraComma, 4),
        ("07", Bad::LeadingZero, 0),
        ("00", Bad::LeadingZero, 0),
    ] {
        // Short: the byte-wise path; long, at every alignment: the 64-byte chunks.
        let (short, _) = padded(0, fault);
        assert_eq!(scan(&short).unwrap_err(), (bad, offset), "{fault:?}");
        for at in 130..200 {
            let at = at & !1; // the padding comes in pairs
            let (text, pos) = padded(at, fault);
            assert_eq!(
                scan(&text).unwrap_err(),
                (bad, pos + offset),
                "{fault:?} at {at}"
            );
        }
    }
    // A comma right after `[` (the state a scan starts in).
    assert_eq!(scan(",1]").unwrap_err(), (Bad::ExtraComma, 0));
    let long = format!(",{}]", "1,".repeat(100) + "1");
    assert_eq!(scan(&long).unwrap_err(), (Bad::ExtraComma, 0));
    // What JSON allows: white space around commas, zero itself, zeros inside numbers.
    let ok = "0 , 10\n,\t100\r\n, 0,1000000000000000000 ]";
    let (got, _, _) = scan_all(ok);
    assert_eq!(got, vec![0, 10, 100, 0, 1_000_000_000_000_000_000]);
    let long = "0,100,\n".repeat(40) + "]";
    assert_eq!(scan_all(&long).0.len(), 80);
}

#[test]
fn tokens_split_lead_numbers_and_tail() {
    let mut t = Tokens::default();
    t.scan(b"45,6,78\n,9");
    assert_eq!(
        t.lead,
        Carry {
            value: 45,
            digits: 2
        }
    );
    assert!(t.lead_closed);
    assert_eq!(t.numbers, vec![6, 78]);
    assert_eq!(
        t.tail,
        Carry {
            value: 9,
            digits: 1
        }
    );
    assert_eq!(t.prev, Prev::Number);
    t.scan(b"],\"strings\":[\"1,2\"");
    assert_eq!(t.lead.digits, 0);
    assert_eq!(t.stop, 0);
    // Without a lead, the first comma or number is left for the parser to check.
    t.scan(b"\n,5,6");
    assert_eq!((t.first, t.prev), (Some(Prev::Comma), Prev::Number));
    t.scan(b" 5,6,");
    assert_eq!((t.first, t.prev), (Some(Prev::Number), Prev::Comma));
}
