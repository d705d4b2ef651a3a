use super::{print, Context};
use crate::cli::ProfileAction;
use crate::error::AppError;
use crate::profile::Profile;

pub fn run(ctx: &Context, action: ProfileAction) -> Result<u8, AppError> {
    match action {
        ProfileAction::Show { file } => {
            let profile = match file {
                Some(f) => Profile::load(&f)?,
                None => ctx.profile()?,
            };
            print(&profile.to_toml())?;
            Ok(0)
        }
        ProfileAction::Check { file } => {
            let profile = Profile::load(&file)?;
            // The file name and the profile's name are the file's text: shown escaped.
            use crate::text::escape::clean;
            print(&format!(
                "{}: profile `{}` is valid ({} endpoints)\n",
                clean(&file.display().to_string()),
                clean(&profile.name),
                profile.endpoints.len()
            ))?;
            Ok(0)
        }
    }
}
