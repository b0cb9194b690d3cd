//! A mock per test: what starting a server and answering its first request
//! costs, ours against wiremock's (issue 25). Each iteration starts a server,
//! sends it one request over a new connection, reads the answer and drops the
//! server, as a test that starts its own mock does.
//!
//! wiremock keeps a pool of started servers and hands one out per
//! `MockServer::start`; it answers only what a test mounts, so its iteration
//! mounts one `GET /v2/images` answer first. Ours answers
//! `GET /v2/images` from its empty state.
// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        // Each server listens on a new port: a kept connection is never reused.
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client")
}

async fn first_request(client: &reqwest::Client, url: &str) {
    let resp = client
        .get(format!("{url}/v2/images"))
        .header("x-auth-token", "t")
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("a body");
    std::hint::black_box(body);
}

/// Drop a server inside the iteration and let the runtime run what that
/// leaves (our accept task aborted; wiremock's server back to its pool):
/// on a current-thread runtime an iteration that never waits would
/// otherwise leave every aborted task, and its socket, queued for later.
async fn stop<T>(server: T) {
    drop(server);
    tokio::task::yield_now().await;
}

fn mock_start(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let client = client();
    let mut group = c.benchmark_group("mock_start");
    group.sample_size(50);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    group.bench_function("glance_mock_server/start_only", |b| {
        b.iter(|| {
            rt.block_on(async {
                let server = glance_mock_server::MockServer::start()
                    .await
                    .expect("starts");
                std::hint::black_box(server.addr());
                stop(server).await;
            })
        })
    });
    group.bench_function("glance_mock_server/start_and_first_request", |b| {
        b.iter(|| {
            rt.block_on(async {
                let server = glance_mock_server::MockServer::start()
                    .await
                    .expect("starts");
                first_request(&client, &server.url()).await;
                stop(server).await;
            })
        })
    });
    group.bench_function("wiremock/start_and_first_request", |b| {
        b.iter(|| {
            rt.block_on(async {
                let server = wiremock::MockServer::start().await;
                wiremock::Mock::given(wiremock::matchers::method("GET"))
                    .and(wiremock::matchers::path("/v2/images"))
                    .respond_with(
                        wiremock::ResponseTemplate::new(200)
                            .set_body_raw(r#"{"images": []}"#, "application/json"),
                    )
                    .mount(&server)
                    .await;
                first_request(&client, &server.uri()).await;
                stop(server).await;
            })
        })
    });
    group.finish();
}

criterion_group!(benches, mock_start);
criterion_main!(benches);
