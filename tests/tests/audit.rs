//! Reading the access log as the law wants it read: a supervisor reads their districts' rows
//! (their households, their staff), an administrator the rows about no household (sign-ins,
//! administration), staff nothing; every filter narrows; and reading the log is itself on
//! record.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use lots_core::DocumentId;
use lots_tests::{Api as _, SyncClient, TestServer};
use serde_json::{Value, json};

/// `GET path` with a bearer token: its status and body.
async fn get(server: &TestServer, path: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The rows `token` reads at `path`.
async fn rows(server: &TestServer, path: &str, token: &str) -> Vec<Value> {
    let (status, body) = get(server, path, token).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["entries"].as_array().unwrap().clone()
}

/// Opens every household of `token`'s caseload on a phone: one `open` row each.
async fn open_caseload(server: &TestServer, token: &str, phone: &str) -> Vec<String> {
    let households = server.caseload(token).await.unwrap();
    let mut client = SyncClient::connect(server, token, phone).await.unwrap();
    for household in &households {
        assert!(client.fetch(*household).await.unwrap());
    }
    households.iter().map(DocumentId::to_string).collect()
}

#[tokio::test]
async fn each_reader_reads_only_their_share_of_the_log() {
    let server = TestServer::start(2).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let anna = server.login("anna").await.unwrap(); // staff, Norrmalm
    let omar = server.login("omar").await.unwrap(); // staff, Kungsholmen
    let sara = server.login("sara").await.unwrap(); // supervisor of both
    // Lisa supervises Kungsholmen only.
    let lisa = json!({
        "username": "lisa", "display_name": "Lisa Berg", "password": "ett långt lösenord",
        "role": "supervisor", "districts": ["district-kungsholmen"],
    });
    let created = reqwest::Client::new()
        .post(server.url("/api/users"))
        .bearer_auth(&admin)
        .json(&lisa)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let lisa = server
        .login_with("lisa", "ett långt lösenord")
        .await
        .unwrap();

    let before = lots_core::Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    let annas = open_caseload(&server, &anna, "anna-phone").await;
    let omars = open_caseload(&server, &omar, "omar-phone").await;
    assert!(!annas.is_empty() && !omars.is_empty());

    // Lisa: Kungsholmen's households and what Kungsholmen's people did, nothing of Anna's.
    let hers = rows(&server, "/api/audit?limit=5000", &lisa).await;
    for row in &hers {
        let document = row["document_id"].as_str().unwrap();
        assert!(
            document.is_empty() || omars.iter().any(|id| id == document),
            "a household outside Kungsholmen: {row}"
        );
        assert_ne!(row["user_id"], "u-anna", "{row}");
    }
    for household in &omars {
        assert!(
            hers.iter()
                .any(|row| row["document_id"] == household.as_str() && row["action"] == "open"),
            "Omar's opening of {household} is not in Lisa's log"
        );
    }
    // Her own appointment concerns Kungsholmen: she reads it.
    assert!(
        hers.iter()
            .any(|row| row["action"] == "user-created" && row["user_id"] == "u-admin")
    );
    // Asking for Norrmalm gives her none of its households and nothing its staff did (only
    // what people of both districts did, such as Sara's sign-in); Sara reads both.
    let norrmalm = "/api/audit?limit=5000&district=district-norrmalm";
    let asked = rows(&server, norrmalm, &lisa).await;
    assert!(
        asked
            .iter()
            .all(|row| row["document_id"] == "" && row["user_id"] != "u-anna"),
        "{asked:?}"
    );
    let saras = rows(&server, norrmalm, &sara).await;
    for household in &annas {
        assert!(
            saras
                .iter()
                .any(|row| row["document_id"] == household.as_str() && row["action"] == "open")
        );
    }
    assert!(
        saras
            .iter()
            .all(|row| !omars.iter().any(|id| row["document_id"] == id.as_str()))
    );
    // Listing a caseload is on record too, in counts.
    let listed = format!("households={}", annas.len());
    assert!(
        saras.iter().any(|row| row["user_id"] == "u-anna"
            && row["action"] == "caseload-listed"
            && row["detail"] == listed.as_str()),
        "{saras:?}"
    );

    // The administrator: sign-ins and administration, no household.
    let admins = rows(&server, "/api/audit?limit=5000", &admin).await;
    assert!(
        admins
            .iter()
            .all(|row| row["document_id"].as_str().unwrap().is_empty()),
        "a household row reached the administrator"
    );
    assert!(
        admins
            .iter()
            .any(|row| row["action"] == "sign-in" && row["user_id"] == "u-lisa")
    );
    // Staff read no log.
    assert_eq!(get(&server, "/api/audit", &anna).await.0, 403);

    // Kind and period narrow; a time that is not one is refused with a reason.
    let path = format!(
        "/api/audit?limit=5000&action=open&from={}",
        before.as_millis()
    );
    let opens = rows(&server, &path, &sara).await;
    assert_eq!(opens.len(), annas.len() + omars.len(), "{opens:?}");
    assert!(
        opens
            .iter()
            .all(|row| row["at"].as_i64().unwrap() >= before.as_millis())
    );
    let path = format!("/api/audit?action=open&to={}", before.as_millis());
    assert!(rows(&server, &path, &sara).await.is_empty());
    let (status, body) = get(&server, "/api/audit?from=-5", &sara).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "bad_time", "{body}");

    // Every reading above is on record, with what was asked and how many rows it gave.
    let readings: Vec<String> = server
        .state
        .store
        .audit_entries(None, Some("u-lisa"), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.action == "log-read")
        .map(|entry| entry.detail)
        .collect();
    assert_eq!(readings.len(), 2, "{readings:?}");
    assert!(
        readings.contains(&format!("district=district-norrmalm rows={}", asked.len())),
        "{readings:?}"
    );
}

/// `POST /api/reads` with `reads`, as `token`.
async fn upload(server: &TestServer, token: &str, reads: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/api/reads"))
        .bearer_auth(token)
        .json(&json!({ "reads": reads }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn reads_made_offline_reach_the_log_once_with_both_times() {
    let server = TestServer::start(2).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let hers = server.caseload(&anna).await.unwrap()[0].to_string();
    let his = server.caseload(&omar).await.unwrap()[0].to_string();
    // Read on the phone an hour ago, offline; uploaded now.
    let an_hour_ago = millis_now() - 3_600_000;
    let reads = json!([
        { "id": "r-1", "household": hers, "shown": "household", "at": an_hour_ago },
        { "id": "r-2", "household": hers, "shown": "visit", "visit": "v-7", "at": an_hour_ago + 1 },
        { "id": "r-3", "household": his, "shown": "household", "at": an_hour_ago },
        { "id": "r-4", "household": hers, "shown": "household", "at": millis_now() + 3_600_000 },
        { "id": "no spaces", "household": hers, "shown": "household", "at": an_hour_ago },
        { "id": "r-6", "household": "not-an-id", "shown": "household", "at": an_hour_ago },
        { "id": "r-7", "household": hers, "shown": "visit", "at": an_hour_ago },
    ]);
    let (status, answer) = upload(&server, &anna, reads.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["logged"], 2, "{answer}");
    let codes: Vec<(u64, &str)> = answer["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|refused| {
            (
                refused["index"].as_u64().unwrap(),
                refused["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            (2, "not_yours"),
            (3, "bad_time"),
            (4, "bad_id"),
            (5, "bad_household"),
            (6, "bad_visit")
        ]
    );
    // Sent again (its answer lost): logged once.
    let (status, again) = upload(&server, &anna, reads).await;
    assert_eq!(status, 200);
    assert_eq!(
        (again["logged"].as_u64(), again["already"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );

    // The supervisor reads both reads, at the server's time, with the device's time too.
    let path = format!("/api/audit?action=read&household={hers}");
    let logged = rows(&server, &path, &sara).await;
    assert_eq!(logged.len(), 2, "{logged:?}");
    for row in &logged {
        assert_eq!(row["user_id"], "u-anna");
        assert!(
            row["at"].as_i64().unwrap() >= an_hour_ago + 3_000_000,
            "{row}"
        );
    }
    let details: Vec<&str> = logged
        .iter()
        .map(|row| row["detail"].as_str().unwrap())
        .collect();
    assert!(
        details.contains(&format!("shown=household device_at={an_hour_ago} read=r-1").as_str()),
        "{details:?}"
    );
    assert!(
        details.contains(
            &format!(
                "shown=visit visit=v-7 device_at={} read=r-2",
                an_hour_ago + 1
            )
            .as_str()
        ),
        "{details:?}"
    );

    // An administrator shows no household; an upload is bounded.
    assert_eq!(upload(&server, &admin, json!([])).await.0, 403);
    let many: Vec<Value> = (0..501)
        .map(|n| json!({ "id": format!("r-{n}"), "household": hers, "shown": "household", "at": an_hour_ago }))
        .collect();
    let (status, body) = upload(&server, &anna, Value::Array(many)).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "too_many_reads", "{body}");
}

#[tokio::test]
async fn a_reviewed_period_is_on_record_with_its_comment_and_read_by_the_districts_supervisors() {
    let server = TestServer::start(1).await.unwrap();
    let sara = server.login("sara").await.unwrap(); // supervisor of both districts
    let anna = server.login("anna").await.unwrap();
    let post = |token: String, body: Value| {
        let url = server.url("/api/audit/reviews");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let now = millis_now();
    let week = 7 * 86_400_000;
    let review = json!({
        "from": now - week, "to": now - 1_000, "district": "district-norrmalm",
        "comment": "Granskat: inga avvikelser.",
    });
    let (status, body) = post(sara.clone(), review).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, reviews) = get(&server, "/api/audit/reviews", &sara).await;
    assert_eq!(status, 200);
    assert_eq!(reviews[0]["id"], id);
    assert_eq!(reviews[0]["comment"], "Granskat: inga avvikelser.");
    assert_eq!(reviews[0]["district_id"], "district-norrmalm");
    // On the log, by id: the comment stays out of it.
    let logged = rows(&server, "/api/audit?action=log-reviewed", &sara).await;
    assert_eq!(
        logged[0]["detail"],
        format!(
            "review={id} from={} to={} district=district-norrmalm",
            now - week,
            now - 1_000
        )
    );

    // A period running into the future ends at the server's now, whatever the desk's
    // clock said.
    let asked = json!({ "from": now - week, "to": now + week, "comment": "Till och med idag." });
    let (status, body) = post(sara.clone(), asked).await;
    assert_eq!(status, 201, "{body}");
    let after = millis_now();
    let (_, reviews) = get(&server, "/api/audit/reviews", &sara).await;
    assert_eq!(reviews[0]["id"], body["id"]);
    let to = reviews[0]["period_to"].as_i64().unwrap();
    assert!(
        (now..=after).contains(&to),
        "{to} is not between {now} and {after}"
    );

    // A period that ends before it begins, or begins in the future; no comment; another
    // district; staff: each refused.
    let refused = [
        (
            json!({ "from": now, "to": now - 1, "comment": "x" }),
            400,
            "bad_period",
        ),
        (
            json!({ "from": now + week, "to": now + 2 * week, "comment": "x" }),
            400,
            "bad_period",
        ),
        (
            json!({ "from": now - week, "to": now - 1, "comment": "  " }),
            400,
            "bad_comment",
        ),
    ];
    for (body, status, code) in refused {
        let (got, answer) = post(sara.clone(), body).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
    }
    let elsewhere =
        json!({ "from": now - week, "to": now - 1, "district": "district-x", "comment": "x" });
    assert_eq!(post(sara.clone(), elsewhere).await.0, 403);
    let staff = json!({ "from": now - week, "to": now - 1, "comment": "x" });
    assert_eq!(post(anna.clone(), staff).await.0, 403);
    assert_eq!(get(&server, "/api/audit/reviews", &anna).await.0, 403);
}

#[tokio::test]
async fn the_log_flags_many_households_shown_in_a_short_time_and_exports() {
    let server = TestServer::start(10).await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let households = server.caseload(&sara).await.unwrap();
    assert!(households.len() >= 20, "{}", households.len());
    // Sara's desk shows twenty households within a minute.
    let now = millis_now();
    let reads: Vec<Value> = households
        .iter()
        .take(20)
        .enumerate()
        .map(|(n, household)| {
            json!({ "id": format!("r-{n}"), "household": household.to_string(), "shown": "household", "at": now - 60_000 + n as i64 })
        })
        .collect();
    assert_eq!(
        upload(&server, &sara, Value::Array(reads)).await.1["logged"],
        20
    );
    let (status, log) = get(&server, "/api/audit?action=read", &sara).await;
    assert_eq!(status, 200);
    let many: Vec<i64> = log["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|flag| flag["flag"] == "many-households")
        .map(|flag| flag["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(many.len(), 20, "{log}");

    // An export from the desk is on record, and flagged.
    let exported = reqwest::Client::new()
        .post(server.url("/api/exports"))
        .bearer_auth(&sara)
        .json(&json!({ "file": "hushåll-2026.csv", "rows": 20 }))
        .send()
        .await
        .unwrap();
    assert_eq!(exported.status().as_u16(), 204);
    let (_, log) = get(&server, "/api/audit?action=export", &sara).await;
    let row = &log["entries"][0];
    assert_eq!(row["detail"], "file=hushåll-2026.csv rows=20");
    assert_eq!(log["flags"][0]["seq"], row["seq"]);
    assert_eq!(log["flags"][0]["flag"], "export");
    let unnamed = reqwest::Client::new()
        .post(server.url("/api/exports"))
        .bearer_auth(&sara)
        .json(&json!({ "file": "a\nb", "rows": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(unnamed.status().as_u16(), 400);
}
