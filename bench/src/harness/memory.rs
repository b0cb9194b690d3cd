//! Section 5: Memory: peak RSS of a downloading and of an uploading process, and
//! the mock's memory per image record.

use anyhow::Result;

use super::report::{Section, f, verdict};
use super::{Env, child, num, run_json};
use crate::alloc::Snapshot;

const RECORDS: usize = 10_000;

/// Run the measurements; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mut s = Section::new("5. Memory");
    let mock = super::start_mock(env)?;
    let client = crate::pages::client(&mock.url)?;
    let mut rows = vec![];
    let mut flat = true;
    for mib in [env.settings.size_mib, env.settings.big_mib] {
        let id = super::create_image(&client, &format!("bench-mem-{mib}")).await?;
        let up = run_json(&mut child::upload_cmd(
            env,
            &mock.url,
            &id,
            &child::Source::Generated(mib),
        )?)?;
        let down = run_json(&mut child::download_cmd(env, &mock.url, &id, 1, true)?)?;
        client.images().delete(&id).await?;
        for (what, v) in [("upload (stream)", &up), ("verified download", &down)] {
            let rss = num(v, "peak_rss_kib") / 1024.0;
            flat &= rss < 32.0;
            rows.push(vec![
                format!("{what}, {mib} MiB"),
                f(rss),
                format!("{:.0}", num(v, "allocs")),
                f(super::mib_s(num(v, "bytes") as u64, num(v, "secs"))),
            ]);
        }
        super::settle();
    }
    s.table(
        &["process", "peak RSS (VmHWM) MiB", "allocations", "MiB/s"],
        &rows,
    );
    s.line(format!(
        "- Target flat, < 32 MiB at every size: {}",
        verdict(flat)
    ));
    drop(mock);

    // The mock in this process, where the allocator counts live bytes.
    let server = glance_mock_server::MockServer::start().await?;
    let client = crate::pages::client(&server.url())?;
    crate::pages::populate(&client, 500, 16).await?; // pools, lazy state
    let rss0 = crate::procfs::status_kib("self", "VmRSS").unwrap_or(0);
    let before = Snapshot::now();
    crate::pages::populate(&client, RECORDS, 16).await?;
    let live = Snapshot::now().since(before).live;
    let rss1 = crate::procfs::status_kib("self", "VmRSS").unwrap_or(0);
    let per = live as f64 / RECORDS as f64;
    s.line(format!(
        "- Mock memory per image record ({RECORDS} records made through the API, each with a name, formats, one tag and two properties): {} bytes live per record by the counting allocator ({} KiB/record by VmRSS growth) — target < 4 KiB: {}",
        f(per),
        f((rss1.saturating_sub(rss0)) as f64 / RECORDS as f64),
        verdict(per < 4096.0)
    ));
    Ok(s.finish())
}
