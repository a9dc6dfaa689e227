use super::*;
use crate::error::Code;
use crate::ids::{PlaceId, UnitId};
use RegistrationStatus as S;

fn events() -> Vec<RegistrationEvent> {
    vec![
        RegistrationEvent::Submit,
        RegistrationEvent::Accept {
            grid: Some(PlaceId(9)),
        },
        RegistrationEvent::Return {
            reason: "地址不符".into(),
        },
        RegistrationEvent::Withdraw,
        RegistrationEvent::TransferOut,
        RegistrationEvent::Expire,
        RegistrationEvent::Confirm,
    ]
}

/// The whole table: (from, event code) → to. Everything not listed is illegal.
fn legal(from: S, ev: &str) -> Option<S> {
    match (from, ev) {
        (S::Returned, "submit") => Some(S::Submitted),
        (S::Submitted | S::TransferPending, "accept") => Some(S::Accepted),
        (S::Submitted | S::TransferPending, "return") => Some(S::Returned),
        (S::Submitted | S::Carried | S::Accepted | S::TransferPending, "withdraw") => {
            Some(S::Withdrawn)
        }
        (S::Accepted, "transfer_out") => Some(S::TransferredOut),
        (S::Submitted | S::Carried | S::TransferPending, "expire") => Some(S::Expired),
        (S::Carried, "confirm") => Some(S::Accepted),
        _ => None,
    }
}

#[test]
fn every_transition_legal_or_refused() {
    let mut legal_count = 0;
    for from in S::ALL {
        for ev in events() {
            let got = next(from, &ev);
            match legal(from, ev.as_str()) {
                Some(to) => {
                    legal_count += 1;
                    assert_eq!(got, Ok(to), "{from:?} + {ev:?}");
                }
                None => assert_eq!(got, Err(Code::IllegalTransition), "{from:?} + {ev:?}"),
            }
        }
    }
    assert_eq!(legal_count, 14);
}

#[test]
fn only_an_accepted_registration_may_be_transferred() {
    for from in S::ALL {
        assert_eq!(
            may_request_transfer(from).is_ok(),
            from == S::Accepted,
            "{from:?}"
        );
    }
    // A transfer in waits in the queue like a new registration, but is not "the" active registration: the old
    // community's accepted one stays in force until the new community accepts.
    assert!(S::TransferPending.is_waiting() && !S::TransferPending.is_active());
}

#[test]
fn terminal_statuses_accept_nothing() {
    for from in [S::Withdrawn, S::TransferredOut, S::Expired] {
        for ev in events() {
            assert_eq!(next(from, &ev), Err(Code::IllegalTransition));
        }
    }
}

#[test]
fn accept_needs_a_grid_and_return_a_reason() {
    assert_eq!(
        next(S::Submitted, &RegistrationEvent::Accept { grid: None }),
        Err(Code::GridRequired)
    );
    assert_eq!(
        next(
            S::Submitted,
            &RegistrationEvent::Return {
                reason: "  ".into()
            }
        ),
        Err(Code::ReasonRequired)
    );
    // The status check comes first: an accepted registration cannot be accepted again, grid or not.
    assert_eq!(
        next(S::Accepted, &RegistrationEvent::Accept { grid: None }),
        Err(Code::IllegalTransition)
    );
    assert_eq!(
        next(
            S::Returned,
            &RegistrationEvent::Return { reason: "".into() }
        ),
        Err(Code::IllegalTransition)
    );
}

#[test]
fn statuses_round_trip_with_labels() {
    for s in S::ALL {
        assert_eq!(S::parse(s.as_str()), Some(s));
        assert!(!s.label().is_empty());
    }
    assert_eq!(S::parse("nope"), None);
    assert!(S::Carried.is_active() && S::Accepted.is_active() && S::Submitted.is_active());
    assert!(!S::Returned.is_active() && !S::Expired.is_active());
    for s in UnitRegistrationStatus::ALL {
        assert_eq!(UnitRegistrationStatus::parse(s.as_str()), Some(s));
    }
    for s in PairingStatus::ALL {
        assert_eq!(PairingStatus::parse(s.as_str()), Some(s));
    }
}

#[test]
fn only_accepted_members_have_a_card() {
    let with: Vec<S> = S::ALL.into_iter().filter(|s| has_card(*s)).collect();
    assert_eq!(with, vec![S::Carried, S::Accepted]);
}

#[test]
fn receipt_numbers() {
    assert_eq!(receipt_no(2026, 123), "HZ2026-000123");
    assert_eq!(receipt_no(2027, 1_234_567), "HZ2027-1234567");
}

#[test]
fn availability_round_trips() {
    let a = Availability::parse("weekend_morning, weekday_evening,,weekend_morning").ok();
    let a = a.unwrap_or_default();
    assert!(a.contains(Slot::WeekdayEvening) && a.contains(Slot::WeekendMorning));
    assert!(!a.contains(Slot::WeekdayMorning));
    assert_eq!(a.format(), "weekday_evening,weekend_morning");
    assert_eq!(a.label(), "工作日晚上、周末上午");
    assert_eq!(Availability::parse(&a.format()), Ok(a));
    assert_eq!(Availability::parse(""), Ok(Availability::empty()));
    assert_eq!(Availability::parse("midnight"), Err(Code::InvalidChoice));
    let all = Slot::ALL
        .into_iter()
        .fold(Availability::empty(), Availability::with);
    assert_eq!(all.slots().len(), 6);
}

#[test]
fn unit_registration_machine() {
    use UnitRegistrationEvent as E;
    use UnitRegistrationStatus as U;
    let evs = [
        E::Submit,
        E::Accept,
        E::Return { reason: "x".into() },
        E::Withdraw,
    ];
    let table = |from: U, ev: &E| -> Option<U> {
        match (from, ev) {
            (U::Returned, E::Submit) => Some(U::Submitted),
            (U::Submitted, E::Accept) => Some(U::Accepted),
            (U::Submitted, E::Return { .. }) => Some(U::Returned),
            (U::Submitted | U::Accepted, E::Withdraw) => Some(U::Withdrawn),
            _ => None,
        }
    };
    for from in U::ALL {
        for ev in &evs {
            match table(from, ev) {
                Some(to) => assert_eq!(from.next(ev), Ok(to)),
                None => assert_eq!(from.next(ev), Err(Code::IllegalTransition)),
            }
        }
    }
    assert_eq!(
        U::Submitted.next(&E::Return { reason: " ".into() }),
        Err(Code::ReasonRequired)
    );
}

#[test]
fn pairing_life_cycle() {
    use PairingStatus::*;
    let legal = [
        (Draft, Signed),
        (Signed, Running),
        (Running, Ended),
        (Running, Renewed),
    ];
    for from in PairingStatus::ALL {
        for to in PairingStatus::ALL {
            let r = from.advance(to);
            if legal.contains(&(from, to)) {
                assert_eq!(r, Ok(to));
            } else {
                assert_eq!(r, Err(Code::IllegalTransition), "{from:?} -> {to:?}");
            }
        }
    }
}

#[test]
fn grades_parse_codes_and_chinese() {
    assert_eq!(ProjectGrade::parse("优"), Some(ProjectGrade::Excellent));
    assert_eq!(ProjectGrade::parse("fair"), Some(ProjectGrade::Fair));
    assert_eq!(ProjectGrade::parse("差"), Some(ProjectGrade::Poor));
    assert_eq!(ProjectGrade::parse("良"), None);
}

#[test]
fn targets_over_a_term() {
    assert_eq!(quarters_in_term("2026-01-01", "2026-12-31"), 4);
    assert_eq!(quarters_in_term("2026-03-31", "2026-04-01"), 2);
    assert_eq!(quarters_in_term("2026-05-01", "2027-04-30"), 5);
    let t = PairingTargets {
        activities_per_quarter: 2,
        note: None,
    };
    assert_eq!(target_activities(&t, "2026-01-01", "2026-12-31"), 8);
}

#[test]
fn inputs_validate() {
    let r = RoundInput {
        name: "2026年度".into(),
        year: "2026".into(),
        starts_on: "2026-01-01".into(),
        ends_on: "2026-12-31".into(),
        carry_over: true,
    }
    .validate();
    assert!(matches!(r, Ok(ValidRound { year: 2026, .. })));
    let bad = RoundInput {
        name: "".into(),
        year: "abc".into(),
        starts_on: "2026-12-31".into(),
        ends_on: "2026-01-01".into(),
        carry_over: false,
    }
    .validate()
    .err()
    .unwrap_or_default();
    assert_eq!(bad.get("name").map(|e| e.code), Some(Code::Required));
    assert_eq!(bad.get("year").map(|e| e.code), Some(Code::InvalidNumber));
    assert_eq!(
        bad.get("ends_on").map(|e| e.code),
        Some(Code::InvalidDateRange)
    );

    let reg = RegistrationInput {
        community_id: "12".into(),
        skills: vec!["medical".into(), "medical".into()],
        intentions: vec!["elderly_care".into()],
        availability: vec!["weekend_morning".into()],
    }
    .validate();
    assert!(
        matches!(&reg, Ok(v) if v.community_id == PlaceId(12) && v.skills.len() == 1),
        "{reg:?}"
    );
    let bad = RegistrationInput {
        community_id: "".into(),
        availability: vec!["someday".into()],
        ..Default::default()
    }
    .validate()
    .err()
    .unwrap_or_default();
    assert_eq!(
        bad.get("community_id").map(|e| e.code),
        Some(Code::Required)
    );
    assert_eq!(
        bad.get("availability").map(|e| e.code),
        Some(Code::InvalidChoice)
    );

    let res = ResourceInput {
        title: "义诊".into(),
        capacity: "0".into(),
        ..Default::default()
    }
    .validate()
    .err()
    .unwrap_or_default();
    assert_eq!(
        res.get("capacity").map(|e| e.code),
        Some(Code::InvalidNumber)
    );

    let p = PairingInput {
        unit_id: "3".into(),
        community_id: "4".into(),
        term_start: "2026-01-01".into(),
        term_end: "2027-12-31".into(),
        activities_per_quarter: "1".into(),
        targets_note: "".into(),
    }
    .validate();
    assert!(matches!(
        p,
        Ok(ValidPairing {
            unit_id: UnitId(3),
            ..
        })
    ));

    let a = ActivityInput {
        title: "植树".into(),
        planned_on: "2026-3-12".into(),
    }
    .validate();
    assert!(matches!(a, Ok(ValidActivity { planned_on, .. }) if planned_on == "2026-03-12"));

    let ur = UnitRegistrationInput {
        place_id: "5".into(),
        contact_name: "王".into(),
        contact_phone: "123".into(),
        note: "".into(),
    }
    .validate()
    .err()
    .unwrap_or_default();
    assert_eq!(
        ur.get("contact_phone").map(|e| e.code),
        Some(Code::InvalidMobile)
    );
}

#[test]
fn a_resubmission_never_starts_with_the_returning_community() {
    let (returner, home, qr) = (PlaceId(5), PlaceId(6), PlaceId(7));
    assert_eq!(
        resubmission_community(returner, Some(qr), Some(home)),
        Some(qr)
    );
    assert_eq!(
        resubmission_community(returner, None, Some(home)),
        Some(home)
    );
    assert_eq!(
        resubmission_community(returner, Some(returner), Some(home)),
        Some(home)
    );
    assert_eq!(resubmission_community(returner, None, Some(returner)), None);
    assert_eq!(resubmission_community(returner, None, None), None);
}

#[test]
fn rates_read_as_percentages() {
    assert_eq!(rate_label(0, 0), "—");
    assert_eq!(rate_label(0, 8), "0.0%");
    assert_eq!(rate_label(1, 8), "12.5%");
    assert_eq!(rate_label(2, 3), "66.7%");
    assert_eq!(rate_label(8, 8), "100.0%");
}
