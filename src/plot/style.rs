//! The look every figure shares: sizes, fonts, ticks, number formats, time units, legends drawn
//! outside the data, colour bars.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Output format of the figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// PNG at 300 dpi for a 10 × 6 inch figure (3000 × 1800 px).
    #[default]
    Png,
    /// SVG (vector; text stays text).
    Svg,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }

    /// Pixel size and scale of every length (fonts, margins, strokes).
    pub(crate) fn style(self) -> Style {
        match self {
            Self::Png => Style { size: (3000, 1800), s: 3.0 },
            Self::Svg => Style { size: (1000, 600), s: 1.0 },
        }
    }
}

/// Size and scale of one figure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    pub(crate) size: (u32, u32),
    s: f64,
}

impl Style {
    /// A length of `x` design pixels (a 1000 × 600 figure).
    pub(crate) fn px(self, x: f64) -> u32 {
        (x * self.s).round() as u32
    }

    /// The same, signed.
    pub(crate) fn ipx(self, x: f64) -> i32 {
        (x * self.s).round() as i32
    }

    /// Title text.
    pub(crate) fn title(self) -> TextStyle<'static> {
        ("sans-serif", self.px(19.0)).into_font().into()
    }

    /// Axis descriptions and legend text.
    pub(crate) fn label(self) -> TextStyle<'static> {
        ("sans-serif", self.px(15.0)).into_font().into()
    }

    /// Tick labels.
    pub(crate) fn tick(self) -> TextStyle<'static> {
        ("sans-serif", self.px(13.0)).into_font().into()
    }

    /// Small notes.
    pub(crate) fn note(self) -> TextStyle<'static> {
        TextStyle::from(("sans-serif", self.px(12.0)).into_font()).color(&RGBColor(90, 90, 90))
    }

    /// A line of `w` design pixels.
    pub(crate) fn stroke(self, w: f64) -> u32 {
        self.px(w).max(1)
    }
}

/// The population's colour as plotters' type.
pub(crate) fn rgb(c: [u8; 3]) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// A numeric axis with ticks of our choosing (linear or log); labels come from the chart's
/// formatter ([`format_number`]).
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    log: bool,
}

impl Axis {
    /// A linear axis over `lo..hi` with about `target` ticks (whole numbers when `integer`).
    pub(crate) fn linear(lo: f64, hi: f64, target: usize, integer: bool) -> Self {
        Self { lo, hi, ticks: ticks(lo, hi, target, integer), log: false }
    }

    /// A linear axis with the given ticks.
    pub(crate) fn with_ticks(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Self { lo, hi, ticks, log: false }
    }

    /// A log axis over `lo..hi` (both `> 0`) with ticks at the decades.
    pub(crate) fn log(lo: f64, hi: f64) -> Self {
        let ticks = (-3..=9).map(|e| 10f64.powi(e)).filter(|&d| d >= lo * 0.999 && d <= hi * 1.001).collect();
        Self { lo, hi, ticks, log: true }
    }

    fn pos(&self, v: f64) -> f64 {
        if self.log {
            (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl plotters::coord::ranged1d::Ranged for Axis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = self.pos(*value);
        (f64::from(limit.0) + f * f64::from(limit.1 - limit.0) + 1e-3).floor() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Ticks of a numeric axis over `lo..hi`: about `target` positions at 1, 2 or 5 × 10^k, never
/// finer than 1 when `integer`.
pub(crate) fn ticks(lo: f64, hi: f64, target: usize, integer: bool) -> Vec<f64> {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|&s| s >= raw).unwrap_or(10.0 * mag);
    if integer {
        step = step.max(1.0).round();
    }
    let first = (lo / step).ceil() * step;
    let mut out = Vec::new();
    let mut k = 0.0;
    while first + k * step <= hi + step * 1e-9 {
        let v = first + k * step;
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        k += 1.0;
    }
    out
}

/// A number as a tick label: integers without a decimal point, others with the decimals their
/// step needs and no trailing zeros; large and small magnitudes in scientific form.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    if (v - v.round()).abs() < 1e-9 * a.max(1.0) {
        return format!("{}", v.round() as i64);
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The unit a figure's time axis uses: ms below 2 s, s below 10 min, min beyond.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum TimeUnit {
    Ms,
    S,
    Min,
}

impl TimeUnit {
    /// The unit for a figure spanning `duration_ms`.
    pub(crate) fn for_duration(duration_ms: f64) -> Self {
        if duration_ms < 2000.0 {
            Self::Ms
        } else if duration_ms < 600_000.0 {
            Self::S
        } else {
            Self::Min
        }
    }

    /// `ms` in this unit.
    pub(crate) fn of(self, ms: f64) -> f64 {
        match self {
            Self::Ms => ms,
            Self::S => ms / 1000.0,
            Self::Min => ms / 60_000.0,
        }
    }

    /// The axis description.
    pub(crate) fn axis(self) -> &'static str {
        match self {
            Self::Ms => "time (ms)",
            Self::S => "time (s)",
            Self::Min => "time (min)",
        }
    }
}

/// A length of simulated time for titles: `1 s`, `250 ms`, `60 min`.
pub(crate) fn duration_text(ms: f64) -> String {
    match TimeUnit::for_duration(ms) {
        TimeUnit::Ms => format!("{} ms", format_number(ms)),
        TimeUnit::S => format!("{} s", format_number((ms / 100.0).round() / 10.0)),
        TimeUnit::Min => format!("{} min", format_number((ms / 6000.0).round() / 10.0)),
    }
}

/// The area of a figure: white, with the title on top; returns the area under it.
pub(crate) fn titled<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, st: Style, title: &str) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let inner = root.margin(st.px(14.0), st.px(8.0), st.px(10.0), st.px(10.0));
    inner.titled(title, st.title()).map_err(|e| e.to_string())
}

/// One legend entry: a swatch (filled square, or a line when `line`) and its text.
pub(crate) struct Entry {
    pub(crate) label: String,
    pub(crate) color: RGBColor,
    pub(crate) line: bool,
}

/// Splits `area` into the data area (left) and a legend column of `width` design pixels
/// (right), and draws `entries` in the column: legends never sit on the data.
pub(crate) fn with_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    st: Style,
    width: f64,
    entries: &[Entry],
) -> Result<DrawingArea<DB, Shift>, String> {
    if entries.is_empty() {
        return Ok(area.clone());
    }
    let (w, _) = area.dim_in_pixel();
    let (data, legend) = area.split_horizontally(w.saturating_sub(st.px(width)));
    let line_h = st.ipx(22.0);
    let y0 = st.ipx(40.0);
    for (i, e) in entries.iter().enumerate() {
        let y = y0 + i as i32 * line_h;
        let x = st.ipx(8.0);
        if e.line {
            legend
                .draw(&PathElement::new(vec![(x, y), (x + st.ipx(18.0), y)], e.color.stroke_width(st.stroke(2.5))))
                .map_err(|e| e.to_string())?;
        } else {
            legend
                .draw(&Rectangle::new([(x, y - st.ipx(6.0)), (x + st.ipx(12.0), y + st.ipx(6.0))], e.color.filled()))
                .map_err(|e| e.to_string())?;
        }
        legend.draw(&Text::new(e.label.clone(), (x + st.ipx(24.0), y - st.ipx(7.0)), st.label())).map_err(|e| e.to_string())?;
    }
    Ok(data)
}

/// A colour map from white (0) to dark blue (1).
pub(crate) fn blues(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(lerp(247.0, 8.0), lerp(251.0, 48.0), lerp(255.0, 107.0))
}

/// A diverging colour map: blue (−1), white (0), red (+1).
pub(crate) fn diverging(t: f64) -> RGBColor {
    let t = t.clamp(-1.0, 1.0);
    let lerp = |a: f64, b: f64, u: f64| (a + (b - a) * u).round() as u8;
    if t >= 0.0 {
        RGBColor(lerp(247.0, 178.0, t), lerp(247.0, 24.0, t), lerp(247.0, 43.0, t))
    } else {
        RGBColor(lerp(247.0, 33.0, -t), lerp(247.0, 102.0, -t), lerp(247.0, 172.0, -t))
    }
}

/// A vertical colour bar in `area`: the colour of every value in `lo..hi` (through `color`,
/// which maps the value to a colour), with ticks at `ticks` (values) labelled by `label` and
/// the quantity `desc` beside it.
pub(crate) fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    st: Style,
    (lo, hi): (f64, f64),
    ticks: Vec<f64>,
    label: &dyn Fn(f64) -> String,
    color: &dyn Fn(f64) -> RGBColor,
    desc: &str,
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(st.px(40.0))
        .margin_bottom(st.px(55.0))
        .margin_left(st.px(8.0))
        .margin_right(st.px(30.0))
        .y_label_area_size(st.px(62.0))
        .build_cartesian_2d(Axis::linear(0.0, 1.0, 1, false), Axis::with_ticks(lo, hi, ticks))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_style(st.tick())
        .y_desc(desc)
        .axis_desc_style(st.label())
        .y_label_formatter(&|v| label(*v))
        .draw()
        .map_err(|e| e.to_string())?;
    let n = 200;
    chart
        .draw_series((0..n).map(|i| {
            let a = lo + (hi - lo) * i as f64 / n as f64;
            let b = lo + (hi - lo) * (i + 1) as f64 / n as f64;
            Rectangle::new([(0.0, a), (1.0, b)], color((a + b) / 2.0).filled())
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Draws a figure to `path` in `format` with `draw`, written once for both backends.
macro_rules! render {
    ($format:expr, $path:expr, |$root:ident, $st:ident| $body:expr) => {{
        let path: &std::path::Path = $path;
        let $st = $format.style();
        let result: Result<(), String> = match $format {
            $crate::plot::Format::Png => {
                let $root = plotters::prelude::IntoDrawingArea::into_drawing_area(plotters::prelude::BitMapBackend::new(path, $st.size));
                $body.and_then(|()| $root.present().map_err(|e| e.to_string()))
            }
            $crate::plot::Format::Svg => {
                let $root = plotters::prelude::IntoDrawingArea::into_drawing_area(plotters::prelude::SVGBackend::new(path, $st.size));
                $body.and_then(|()| $root.present().map_err(|e| e.to_string()))
            }
        };
        result.map_err(|message| $crate::plot::PlotError::Draw { path: path.to_owned(), message })
    }};
}
pub(crate) use render;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_print_without_a_decimal_point() {
        assert_eq!(format_number(1000.0), "1000");
        assert_eq!(format_number(40000.0), "40000");
        assert_eq!(format_number(0.5), "0.5");
        assert_eq!(format_number(0.25), "0.25");
        assert_eq!(format_number(2.0e7), "2e7");
        assert_eq!(format_number(-3.0), "-3");
    }

    #[test]
    fn integer_ticks_are_whole_numbers() {
        assert_eq!(ticks(-0.5, 9.5, 10, true), (0..=9).map(f64::from).collect::<Vec<_>>());
        assert_eq!(ticks(0.0, 1000.0, 5, true), [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]);
        assert!(ticks(0.0, 3.0, 10, true).iter().all(|t| t.fract() == 0.0));
        assert_eq!(ticks(0.0, 1.0, 4, false), [0.0, 0.5, 1.0]);
    }

    #[test]
    fn time_unit_follows_the_duration() {
        assert_eq!(TimeUnit::for_duration(1000.0), TimeUnit::Ms);
        assert_eq!(TimeUnit::for_duration(20_000.0), TimeUnit::S);
        assert_eq!(TimeUnit::for_duration(3_600_000.0), TimeUnit::Min);
        assert_eq!(duration_text(3_600_000.0), "60 min");
        assert_eq!(duration_text(1000.0), "1000 ms");
    }
}
