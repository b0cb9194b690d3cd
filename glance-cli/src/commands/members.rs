//! Image members: `member-list`, `-get`, `-create`, `-update`, `-delete`.

use anyhow::Result;
use clap::Args;
use glance_client::MemberStatus;

use super::Ctx;
use crate::output::{print_dict, print_list, to_value};

const COLUMNS: [&str; 3] = ["Image ID", "Member ID", "Status"];

/// `member-list`.
#[derive(Debug, Args)]
pub struct MemberList {
    /// Image to display members of.
    #[arg(long, required = true, value_name = "IMAGE_ID")]
    pub image_id: String,
}

/// `member-get`, `member-create`, `member-delete`.
#[derive(Debug, Args)]
pub struct MemberIds {
    /// The image.
    #[arg(value_name = "IMAGE_ID")]
    pub image_id: String,
    /// The member project.
    #[arg(value_name = "MEMBER_ID")]
    pub member_id: String,
}

/// `member-update`.
#[derive(Debug, Args)]
pub struct MemberUpdate {
    /// Image from which to update member.
    #[arg(value_name = "IMAGE_ID")]
    pub image_id: String,
    /// Tenant to update.
    #[arg(value_name = "MEMBER_ID")]
    pub member_id: String,
    /// Updated status of member. Valid Values: accepted, rejected, pending
    #[arg(value_name = "MEMBER_STATUS", value_parser = ["accepted", "rejected", "pending"])]
    pub member_status: String,
}

/// `member-list`.
pub async fn list(ctx: &Ctx<'_>, args: MemberList) -> Result<()> {
    let members = ctx.client.members().list(&args.image_id).await?;
    let rows: Vec<_> = members.iter().map(to_value).collect();
    print_list(&rows, &COLUMNS, ctx.format);
    Ok(())
}

/// `member-get`.
pub async fn get(ctx: &Ctx<'_>, args: MemberIds) -> Result<()> {
    let member = ctx
        .client
        .members()
        .get(&args.image_id, &args.member_id)
        .await?;
    print_dict(&to_value(&member), ctx.format, 80);
    Ok(())
}

/// `member-create`: prints the new member as a one-row list.
pub async fn create(ctx: &Ctx<'_>, args: MemberIds) -> Result<()> {
    let member = ctx
        .client
        .members()
        .create(&args.image_id, &args.member_id)
        .await?;
    print_list(&[to_value(&member)], &COLUMNS, ctx.format);
    Ok(())
}

/// `member-update`: prints the member as a one-row list.
pub async fn update(ctx: &Ctx<'_>, args: MemberUpdate) -> Result<()> {
    // clap allows only the three statuses.
    let status: MemberStatus = args.member_status.parse()?;
    let member = ctx
        .client
        .members()
        .update(&args.image_id, &args.member_id, status)
        .await?;
    print_list(&[to_value(&member)], &COLUMNS, ctx.format);
    Ok(())
}

/// `member-delete`.
pub async fn delete(ctx: &Ctx<'_>, args: MemberIds) -> Result<()> {
    Ok(ctx
        .client
        .members()
        .delete(&args.image_id, &args.member_id)
        .await?)
}
