//! The workload suite: `benches/suite.json`, one definition read by every benchmark and by
//! `simdpool bench`, so all of them report the same cases under the same names.
//!
//! A case's `dims` are logical: `[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]`. Channels-last
//! runs use the same logical dims in [`Layout::ChannelsLast`] (memory order `[N, H, W, C]`).

use serde::{Deserialize, Serialize};
use simdpool::{AvgOptions, DType, Layout, PoolOp, TensorShape, Window};

/// The suite file shipped with the crate (`benches/suite.json`), embedded so that binaries work
/// from any directory.
pub const SUITE_JSON: &str = include_str!("../../benches/suite.json");

/// Both layouts, channels-first first.
pub const LAYOUTS: [Layout; 2] = [Layout::ChannelsFirst, Layout::ChannelsLast];

/// The report name of a layout: `nchw` for channels-first and `nhwc` for channels-last, whatever
/// the spatial rank.
pub fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::ChannelsFirst => "nchw",
        Layout::ChannelsLast => "nhwc",
    }
}

/// Parses `nchw` / `nhwc` (also `ncl`, `nlc`, `ncdhw`, `ndhwc`, `channels-first`, `channels-last`).
pub fn parse_layout(name: &str) -> Option<Layout> {
    match name.trim().to_ascii_lowercase().as_str() {
        "nchw" | "ncl" | "ncdhw" | "channels-first" | "channels_first" => Some(Layout::ChannelsFirst),
        "nhwc" | "nlc" | "ndhwc" | "channels-last" | "channels_last" => Some(Layout::ChannelsLast),
        _ => None,
    }
}

/// One workload of the suite, as written in the JSON file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Unique name, used by every report and filter.
    pub name: String,
    /// `max`, `avg`, `lp`, `gmax`, `gavg`, `adaptive_max` or `adaptive_avg`.
    pub op: String,
    /// Logical dims `[N, C, spatial...]`.
    pub dims: Vec<usize>,
    /// Kernel per spatial dim (windowed ops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<Vec<usize>>,
    /// Stride per spatial dim (default: the kernel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<Vec<usize>>,
    /// Symmetric padding per spatial dim (default: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<Vec<usize>>,
    /// Dilation per spatial dim (default: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<Vec<usize>>,
    /// Ceil mode (default: false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceil_mode: Option<bool>,
    /// Average pooling: whether padding counts in the divisor (default: true, as PyTorch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_include_pad: Option<bool>,
    /// Lp pooling: the power (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm: Option<f64>,
    /// Adaptive ops: the output size per spatial dim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<Vec<usize>>,
    /// Element type (default `f32`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// Layouts the case applies to (default: both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layouts: Option<Vec<String>>,
    /// Where the layer comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// The whole suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suite {
    /// What the suite is.
    #[serde(default)]
    pub about: String,
    /// The cases, in report order.
    pub cases: Vec<Case>,
}

impl Suite {
    /// The embedded `benches/suite.json`.
    pub fn embedded() -> Suite {
        Suite::from_json(SUITE_JSON).expect("benches/suite.json is valid (checked by tests)")
    }

    /// Parses and validates a suite: unique names, and every case builds a valid op and shape in
    /// every layout it applies to.
    pub fn from_json(text: &str) -> Result<Suite, String> {
        let suite: Suite = serde_json::from_str(text).map_err(|e| format!("suite JSON: {e}"))?;
        if suite.cases.is_empty() {
            return Err("suite has no cases".into());
        }
        for (i, case) in suite.cases.iter().enumerate() {
            if suite.cases[..i].iter().any(|c| c.name == case.name) {
                return Err(format!("suite: case name {:?} appears twice", case.name));
            }
            case.validate()?;
        }
        Ok(suite)
    }

    /// Reads and parses a suite file.
    pub fn load(path: &std::path::Path) -> Result<Suite, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read suite {}: {e}", path.display()))?;
        Suite::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The case of this name.
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.name == name)
    }

    /// The cases with these exact names (all cases if `names` is empty); an unknown name is an
    /// error listing the known ones.
    pub fn select(&self, names: &[String]) -> Result<Vec<Case>, String> {
        if names.is_empty() {
            return Ok(self.cases.clone());
        }
        names
            .iter()
            .map(|n| {
                self.case(n).cloned().ok_or_else(|| {
                    let known: Vec<&str> = self.cases.iter().map(|c| c.name.as_str()).collect();
                    format!("unknown case {n:?}; the suite has: {}", known.join(", "))
                })
            })
            .collect()
    }
}

fn per_axis(what: &str, v: &Option<Vec<usize>>, rank: usize, default: Option<usize>) -> Result<Vec<usize>, String> {
    match (v, default) {
        (Some(v), _) if v.len() == rank => Ok(v.clone()),
        (Some(v), _) => Err(format!("{what} has {} entries for {rank} spatial dims", v.len())),
        (None, Some(d)) => Ok(vec![d; rank]),
        (None, None) => Err(format!("{what} is required")),
    }
}

impl Case {
    /// Spatial rank (1 to 3).
    pub fn rank(&self) -> usize {
        self.dims.len().saturating_sub(2)
    }

    /// The element type.
    pub fn dtype(&self) -> Result<DType, String> {
        let name = self.dtype.as_deref().unwrap_or("f32");
        [DType::F32, DType::F64, DType::F16, DType::BF16, DType::U8, DType::I8]
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| format!("case {}: unknown dtype {name:?}", self.name))
    }

    /// The pooling op.
    pub fn pool_op(&self) -> Result<PoolOp, String> {
        let rank = self.rank();
        let err = |e: String| format!("case {}: {e}", self.name);
        let window = || -> Result<Window, String> {
            let k = per_axis("k", &self.k, rank, None)?;
            let mut w = Window::new(&k)
                .stride(&per_axis("s", &self.s, rank, None).unwrap_or_else(|_| k.clone()))
                .padding(&per_axis("p", &self.p, rank, Some(0))?)
                .dilation(&per_axis("d", &self.d, rank, Some(1))?);
            if self.ceil_mode == Some(true) {
                w = w.ceil_mode(true);
            }
            Ok(w)
        };
        let op = match self.op.as_str() {
            "max" => PoolOp::max(window().map_err(err)?),
            "avg" => PoolOp::Avg(
                window().map_err(err)?,
                AvgOptions { count_include_pad: self.count_include_pad.unwrap_or(true), divisor_override: None },
            ),
            "lp" => PoolOp::lp(window().map_err(err)?, self.norm.unwrap_or(2.0)),
            "gmax" => PoolOp::GlobalMax,
            "gavg" => PoolOp::GlobalAvg,
            "adaptive_max" => PoolOp::AdaptiveMax(per_axis("out", &self.out, rank, None).map_err(err)?),
            "adaptive_avg" => PoolOp::AdaptiveAvg(per_axis("out", &self.out, rank, None).map_err(err)?),
            other => {
                return Err(err(format!(
                    "unknown op {other:?} (expected max, avg, lp, gmax, gavg, adaptive_max, adaptive_avg)"
                )));
            }
        };
        Ok(op)
    }

    /// The input shape in `layout` (same logical dims in both layouts).
    pub fn shape(&self, layout: Layout) -> Result<TensorShape, String> {
        if self.dims.len() < 3 || self.dims.len() > 5 {
            return Err(format!("case {}: dims must be [N, C, 1 to 3 spatial dims], got {:?}", self.name, self.dims));
        }
        TensorShape::new(layout, self.dims[0], self.dims[1], &self.dims[2..])
            .map_err(|e| format!("case {}: {e}", self.name))
    }

    /// `Ok` if the case runs in `layout`, else the reason it does not apply.
    pub fn applies_to(&self, layout: Layout) -> Result<(), String> {
        match &self.layouts {
            None => Ok(()),
            Some(list) if list.iter().any(|l| parse_layout(l) == Some(layout)) => Ok(()),
            Some(list) => Err(format!(
                "layout {} does not apply to {} (the suite lists only {})",
                layout_name(layout),
                self.name,
                list.join(", ")
            )),
        }
    }

    /// Checks the op, dtype, shape and output shape in every layout the case applies to.
    pub fn validate(&self) -> Result<(), String> {
        self.dtype()?;
        let op = self.pool_op()?;
        if let Some(bad) = self.layouts.iter().flatten().find(|l| parse_layout(l).is_none()) {
            return Err(format!("case {}: unknown layout {bad:?} (expected nchw or nhwc)", self.name));
        }
        for layout in LAYOUTS {
            if self.applies_to(layout).is_ok() {
                op.output_shape(&self.shape(layout)?).map_err(|e| format!("case {}: {e}", self.name))?;
            }
        }
        Ok(())
    }

    /// A short description: `max 3x3 /2 pad 1`, `global avg`, `adaptive avg -> 7x7`.
    pub fn describe(&self) -> String {
        let x = |v: &[usize]| v.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x");
        let dims = format!("{} [{}]", self.dtype.as_deref().unwrap_or("f32"), x(&self.dims));
        let what = match self.op.as_str() {
            "gmax" => "global max".to_string(),
            "gavg" => "global avg".to_string(),
            "adaptive_max" | "adaptive_avg" => {
                format!("{} -> {}", self.op.replace('_', " "), x(self.out.as_deref().unwrap_or(&[])))
            }
            op => {
                let k = self.k.as_deref().unwrap_or(&[]);
                let mut s = format!("{op} {}", x(k));
                if let Some(st) = &self.s {
                    s += &format!(" /{}", x(st));
                }
                if let Some(p) = self.p.as_ref().filter(|p| p.iter().any(|&v| v > 0)) {
                    s += &format!(" pad {}", x(p));
                }
                if self.count_include_pad == Some(false) {
                    s += " excl-pad";
                }
                s
            }
        };
        format!("{what}, {dims}")
    }

    /// A scaled-down copy for instruction counting: batch 1, at most `max_channels` channels, and
    /// each spatial dim at most `max_extent` (never below what the window needs).
    pub fn scaled(&self, max_channels: usize, max_extent: usize) -> Case {
        let mut c = self.clone();
        c.dims[0] = 1;
        c.dims[1] = c.dims[1].min(max_channels);
        let rank = self.rank();
        for a in 0..rank {
            let need = match (&self.k, &self.out) {
                (Some(k), _) => k[a] * self.d.as_ref().map_or(1, |d| d[a]),
                (None, Some(out)) => out[a],
                _ => 1,
            };
            c.dims[2 + a] = c.dims[2 + a].min(max_extent.max(need));
        }
        c
    }
}
