//! The one e-mail check: python's `email-validator` rules, which the Levers API applies
//! through pydantic's `EmailStr`. The planner skips a row the API would refuse, and the
//! sandbox answers as the API does, from the same function.

/// Why `email` is not an address, in the words of python's `email-validator` (which
/// pydantic's `EmailStr` uses); `None` when it looks like one.
pub fn email_problem(email: &str) -> Option<&'static str> {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Some("An email address must have an @-sign.");
    };
    if local.is_empty() {
        return Some("There must be something before the @-sign.");
    }
    if domain.is_empty() {
        return Some("There must be something after the @-sign.");
    }
    if local.contains('@') || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("The email address contains invalid characters.");
    }
    if !domain.contains('.') {
        return Some("The part after the @-sign is not valid. It should have a period.");
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if !domain.split('.').all(label_ok) {
        return Some("The part after the @-sign contains invalid characters.");
    }
    if domain
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("The part after the @-sign is not valid IDNA.");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_people_write_pass_and_typos_do_not() {
        for ok in [
            "a@b.co",
            "zoe.o'neil+tag@mail.example.org",
            "josé@exämple.com",
            "ü@bücher.de",
        ] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
        for bad in [
            "plain",
            "@example.com",
            "a@example",
            "a@@example.com",
            "a@b@example.com",
            "a b@example.com",
            "a@example..com",
            "a@.example.com",
            "a@example.com.",
            "a@",
            "a@-b.de",
            "a@b.123",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }
}
