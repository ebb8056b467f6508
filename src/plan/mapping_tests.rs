//! Header auto-mapping and `--map` tests.

use super::*;

fn headers(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn fields_of(m: &Mapping) -> Vec<(String, Field)> {
    m.columns()
        .map(|(h, f)| (h.to_owned(), f.clone()))
        .collect()
}

#[test]
fn every_spec_synonym_auto_maps_in_case_space_underscore_dash_variants() {
    let synonyms: [(&[&str], Field); 7] = [
        (
            &[
                "phone",
                "phone_number",
                "phonenumber",
                "number",
                "mobile",
                "msisdn",
                "tel",
                "numbertocall",
            ],
            Field::NumberToCall,
        ),
        (&["first_name", "firstname", "given_name"], Field::FirstName),
        (
            &["last_name", "lastname", "surname", "family_name"],
            Field::LastName,
        ),
        (&["email", "e-mail"], Field::Email),
        (
            &["contact_uuid", "contactuuid", "contact_id"],
            Field::ContactUuid,
        ),
        (
            &["template", "template_id", "aisettingstemplateid"],
            Field::AiSettingsTemplateId,
        ),
        (&["timezone", "tz"], Field::Timezone),
    ];
    for (names, want) in synonyms {
        for name in names {
            let upper = name.to_uppercase();
            let spaced = name.replace('_', " ");
            let dashed = name.replace('_', "-");
            let camel: String = name
                .split('_')
                .enumerate()
                .map(|(i, w)| {
                    let mut cs = w.chars();
                    match (i, cs.next()) {
                        (0, _) | (_, None) => w.to_owned(),
                        (_, Some(c)) => c.to_uppercase().chain(cs).collect(),
                    }
                })
                .collect();
            for variant in [
                name.to_string(),
                upper,
                spaced,
                dashed,
                camel,
                format!("  {name} "),
            ] {
                assert_eq!(auto_field(&variant), want, "{variant:?}");
            }
        }
    }
    assert_eq!(auto_field("Phone Number"), Field::NumberToCall);
    assert_eq!(auto_field("E-Mail"), Field::Email);
    assert_eq!(auto_field("Given-Name"), Field::FirstName);
}

#[test]
fn tags_metadata_and_blank_headers() {
    assert_eq!(auto_field("tag:amount"), Field::PromptTag("amount".into()));
    assert_eq!(
        auto_field("TAG: Due Date "),
        Field::PromptTag("Due Date".into())
    );
    assert_eq!(
        auto_field(" Account ID "),
        Field::Metadata("Account ID".into())
    );
    assert_eq!(auto_field("tag:"), Field::Metadata("tag:".into()));
    assert_eq!(auto_field("   "), Field::Ignore);
    assert_eq!(auto_field("phones"), Field::Metadata("phones".into()));
    assert_eq!(auto_field("Ünïcode"), Field::Metadata("Ünïcode".into()));
}

#[test]
fn a_second_column_for_a_single_valued_field_goes_to_metadata() {
    let m = Mapping::from_headers(
        &headers(&["phone", "Mobile", "Email", "e-mail", "tag:a"]),
        &[],
    )
    .expect("mapping");
    assert_eq!(
        fields_of(&m),
        vec![
            ("phone".into(), Field::NumberToCall),
            ("Mobile".into(), Field::Metadata("Mobile".into())),
            ("Email".into(), Field::Email),
            ("e-mail".into(), Field::Metadata("e-mail".into())),
            ("tag:a".into(), Field::PromptTag("a".into())),
        ]
    );
    assert_eq!(m.number_column(), "phone");
}

#[test]
fn map_overrides_win_and_push_the_auto_column_aside() {
    let overrides = vec![
        ("Mobile Nr".to_owned(), Field::NumberToCall),
        ("phone".to_owned(), Field::Ignore),
        ("notes".to_owned(), Field::PromptTag("note".into())),
        ("Name".to_owned(), Field::FirstName),
        // Matched case- and separator-insensitively when the spelling differs.
        ("account-id".to_owned(), Field::Metadata("acct".into())),
    ];
    let m = Mapping::from_headers(
        &headers(&[
            "Name",
            "first_name",
            "phone",
            "Mobile Nr",
            "notes",
            "Account_ID",
        ]),
        &overrides,
    )
    .expect("mapping");
    assert_eq!(
        fields_of(&m),
        vec![
            ("Name".into(), Field::FirstName),
            ("first_name".into(), Field::Metadata("first_name".into())),
            ("phone".into(), Field::Ignore),
            ("Mobile Nr".into(), Field::NumberToCall),
            ("notes".into(), Field::PromptTag("note".into())),
            ("Account_ID".into(), Field::Metadata("acct".into())),
        ]
    );
    assert_eq!(m.number_column(), "Mobile Nr");
}

#[test]
fn a_later_map_for_the_same_column_wins() {
    let overrides = vec![
        ("x".to_owned(), Field::Email),
        ("x".to_owned(), Field::NumberToCall),
    ];
    let m = Mapping::from_headers(&headers(&["x", "email"]), &overrides).expect("mapping");
    assert_eq!(
        fields_of(&m),
        vec![
            ("x".into(), Field::NumberToCall),
            ("email".into(), Field::Email)
        ]
    );
}

#[test]
fn two_maps_to_one_single_valued_field_are_refused() {
    let overrides = vec![
        ("a".to_owned(), Field::NumberToCall),
        ("b".to_owned(), Field::NumberToCall),
    ];
    let err = Mapping::from_headers(&headers(&["a", "b"]), &overrides).unwrap_err();
    assert!(matches!(err, PlanError::ConflictingMap { .. }), "{err}");
    assert!(err.to_string().contains("\"a\" and \"b\""), "{err}");
}

#[test]
fn no_phone_column_lists_headers_and_suggests_the_likeliest_map() {
    let err = Mapping::from_headers(&headers(&["Name", "Mobile Nr", "City"]), &[]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, PlanError::NoPhoneColumn { .. }));
    assert!(msg.contains(r#""Name", "Mobile Nr", "City""#), "{msg}");
    assert!(msg.contains("--map 'Mobile Nr=numberToCall'"), "{msg}");

    let msg = Mapping::from_headers(&headers(&["name", "Tel. No"]), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("--map 'Tel. No=numberToCall'"), "{msg}");

    let msg = Mapping::from_headers(&headers(&["name", "cell"]), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("--map cell=numberToCall"), "{msg}");

    // Nothing phone-like: the first column no other field wants is the guess.
    let msg = Mapping::from_headers(&headers(&["first_name", "who", "where"]), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("--map who=numberToCall"), "{msg}");
    let msg = Mapping::from_headers(&headers(&["email"]), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("--map email=numberToCall"), "{msg}");

    // A file whose first line is data.
    let msg = Mapping::from_headers(&headers(&["Ana", "+966 50 123 4567"]), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("looks like data"), "{msg}");

    // Mapping the phone column away is the same error.
    let err = Mapping::from_headers(&headers(&["phone"]), &[("phone".to_owned(), Field::Ignore)])
        .unwrap_err();
    assert!(matches!(err, PlanError::NoPhoneColumn { .. }));
}

#[test]
fn a_map_naming_an_unknown_column_lists_the_headers() {
    let err = Mapping::from_headers(
        &headers(&["phone", "name"]),
        &[("mobile".to_owned(), Field::NumberToCall)],
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, PlanError::UnknownMapColumn { .. }));
    assert!(
        msg.contains("\"mobile\"") && msg.contains(r#""phone", "name""#),
        "{msg}"
    );
}

#[test]
fn reserved_metadata_keys_are_refused_from_columns_and_maps() {
    for reserved in ["dialer_campaign", "dialer_row"] {
        let err = Mapping::from_headers(&headers(&["phone", reserved]), &[]).unwrap_err();
        assert!(matches!(err, PlanError::ReservedColumn { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("the column \"{reserved}\"")),
            "{err}"
        );

        let err = Mapping::from_headers(
            &headers(&["phone", "row"]),
            &[("row".to_owned(), Field::Metadata(reserved.into()))],
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("--map row=metadata.{reserved}")),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("--map row=metadata.my_{reserved}")),
            "{msg}"
        );
        assert!(msg.contains("--map row=ignore"), "{msg}");
    }
    // The fix the message suggests works.
    let m = Mapping::from_headers(
        &headers(&["phone", "dialer_row"]),
        &[("dialer_row".to_owned(), Field::Ignore)],
    );
    assert!(m.is_ok());
    // Only the exact key is reserved.
    assert!(Mapping::from_headers(&headers(&["phone", "Dialer Row"]), &[]).is_ok());
}

#[test]
fn number_like_text() {
    for yes in [
        "+966 50 123 4567",
        "(201) 555-0123",
        "tel:+1-201-555-0123",
        "050.123.4567",
    ] {
        assert!(looks_like_number(yes), "{yes}");
    }
    for no in ["phone", "12", "Phone 1", "", "+"] {
        assert!(!looks_like_number(no), "{no}");
    }
}

#[test]
fn a_whole_name_column_fills_the_names_only_when_no_name_column_exists() {
    let m = Mapping::from_headers(&headers(&["phone", "Full Name"]), &[]).unwrap();
    assert_eq!(m.full_name_column(), Some(1));
    // It stays in metadata as before, and the dry run says it is split.
    assert_eq!(fields_of(&m)[1].1, Field::Metadata("Full Name".into()));
    let described: Vec<(&str, String)> = m.described().collect();
    assert_eq!(
        described[1].1,
        "firstName + lastName (split at the first space), metadata.Full Name"
    );
    assert_eq!(described[0].1, "numberToCall");

    for list in [
        ["phone", "name", "first_name"],
        ["phone", "name", "surname"],
        ["phone", "account", "notes"],
    ] {
        let m = Mapping::from_headers(&headers(&list), &[]).unwrap();
        assert_eq!(m.full_name_column(), None, "{list:?}");
    }
    // A --map of the column is the user's own choice, and so is one naming a first name.
    let own = [("name".to_string(), Field::Metadata("who".into()))];
    let m = Mapping::from_headers(&headers(&["phone", "name"]), &own).unwrap();
    assert_eq!(m.full_name_column(), None);
    let first = [("nick".to_string(), Field::FirstName)];
    let m = Mapping::from_headers(&headers(&["phone", "name", "nick"]), &first).unwrap();
    assert_eq!(m.full_name_column(), None);
}
