//! `--screenshot`: capture the window after N frames, print the frame times, exit.

use crate::ViewerSettings;
use crate::live::{FrameStats, LiveState};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use std::path::PathBuf;

pub(crate) fn screenshot_at_frame(mut commands: Commands, settings: Res<ViewerSettings>, live: Res<LiveState>, mut requested: Local<bool>) {
    let Some(req) = &settings.screenshot else { return };
    if *requested || live.frame < req.frames {
        return;
    }
    *requested = true;
    let path = req.path.clone();
    commands.spawn(Screenshot::primary_window()).observe(save_and_exit(path));
}

fn save_and_exit(path: PathBuf) -> impl FnMut(On<ScreenshotCaptured>, ResMut<FrameStats>, MessageWriter<AppExit>) {
    move |captured, mut stats, mut exit| {
        let saved = captured.image.clone().try_into_dynamic().map_err(|e| e.to_string()).and_then(|img| {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            img.to_rgb8().save(&path).map_err(|e| e.to_string())
        });
        if stats.take_report() {
            println!("{}", stats.summary());
        }
        match saved {
            Ok(()) => {
                println!("screenshot: {}", path.display());
                exit.write(AppExit::Success);
            }
            Err(e) => {
                eprintln!("error: cannot save the screenshot to {}: {e}", path.display());
                exit.write(AppExit::error());
            }
        }
    }
}

pub(crate) fn report_on_exit(mut exits: MessageReader<AppExit>, mut stats: ResMut<FrameStats>) {
    if exits.read().next().is_some() && stats.take_report() {
        println!("{}", stats.summary());
    }
}
