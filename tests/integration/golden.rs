//! PyTorch golden vectors (`tests/data/golden/*`): the reference and every plan path, in both
//! layouts, must reproduce PyTorch's outputs and indices, and (28 cases) its gradients.

use crate::common;

use common::*;
use serde_json::Value;
use simdpool::npy::NpyArray;
use simdpool::{AvgOptions, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};
use std::path::{Path, PathBuf};

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("uint") as usize).collect()
}

fn op_of(case: &Value) -> PoolOp {
    let name = case["op"].as_str().expect("op");
    let p = &case["params"];
    let window = || {
        let mut w = Window::new(&usizes(&p["kernel"])).stride(&usizes(&p["stride"])).padding(&usizes(&p["padding"]));
        if !p["dilation"].is_null() {
            w = w.dilation(&usizes(&p["dilation"]));
        }
        w.ceil_mode(p["ceil_mode"].as_bool().unwrap_or(false))
    };
    if name.starts_with("max_pool") {
        PoolOp::Max(window())
    } else if name.starts_with("avg_pool") {
        PoolOp::Avg(
            window(),
            AvgOptions {
                count_include_pad: p["count_include_pad"].as_bool().expect("count_include_pad"),
                divisor_override: p["divisor_override"].as_i64(),
            },
        )
    } else if name.starts_with("adaptive_avg") {
        PoolOp::AdaptiveAvg(usizes(&p["output_size"]))
    } else if name.starts_with("adaptive_max") {
        PoolOp::AdaptiveMax(usizes(&p["output_size"]))
    } else if name.starts_with("global_avg") {
        PoolOp::GlobalAvg
    } else if name.starts_with("global_max") {
        PoolOp::GlobalMax
    } else {
        panic!("unknown golden op {name}")
    }
}

fn load(dir: &Path, file: &str) -> NpyArray {
    NpyArray::parse(&std::fs::read(dir.join(file)).expect(file)).expect(file)
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(root).expect("golden dir").map(|e| e.expect("entry").path()).collect();
    dirs.sort();
    dirs
}

fn check(op: &PoolOp, got: &simdpool::Pooled<f32>, want: &[f32], want_idx: Option<&[i64]>, what: &str) {
    match op {
        PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_) => assert_max_eq(&got.values, want, what),
        _ => assert_close(&got.values, want, 1e-5, 1e-6, what),
    }
    if let (Some(want_idx), Some(idx)) = (want_idx, got.indices.as_ref()) {
        assert_eq!(idx.as_slice(), want_idx, "{what}: indices");
    }
}

#[test]
fn every_golden_case_matches_pytorch() {
    let dirs = cases();
    assert_eq!(dirs.len(), 35, "expected the 35 golden cases");
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let case: Value = serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
        let op = op_of(&case);
        let input = load(&dir, "input.npy");
        let x: Vec<f32> = input.to_vec().unwrap();
        let want: Vec<f32> = load(&dir, "output.npy").to_vec().unwrap();
        let has_idx = case["files"].as_array().unwrap().iter().any(|f| f == "indices.npy");
        let want_idx: Option<Vec<i64>> = has_idx.then(|| load(&dir, "indices.npy").to_vec().unwrap());
        let shape = TensorShape::nchw(&input.shape).unwrap();
        assert_eq!(op.output_shape(&shape).unwrap().dims(), usizes(&case["output_dims"]), "{name}: output dims");

        // The reference, channels-first.
        let r = reference::pool(&op, &x, &shape).unwrap();
        check(&op, &r, &want, want_idx.as_deref(), &format!("{name} reference"));
        if op.has_indices() {
            assert!(r.indices.is_some(), "{name}: the reference returns indices for max ops");
        }

        // Channels-last: transpose the input, pool, transpose back; indices are per plane.
        let shape_l = shape.with_layout(Layout::ChannelsLast);
        let x_l = to_channels_last(&x, &shape);
        let r_l = reference::pool(&op, &x_l, &shape_l).unwrap();
        let back = |p: &simdpool::Pooled<f32>| simdpool::Pooled {
            values: to_channels_first(&p.values, &p.shape),
            indices: p.indices.as_ref().map(|i| to_channels_first(i, &p.shape)),
            shape: p.shape.with_layout(Layout::ChannelsFirst),
        };
        check(&op, &back(&r_l), &want, want_idx.as_deref(), &format!("{name} reference nhwc"));

        for isa in isas() {
            let opts = PlanOptions::isa(isa);
            let p = run_plan(&op, &x, &shape, opts);
            check(&op, &p, &want, want_idx.as_deref(), &format!("{name} plan {isa}"));
            let p_l = run_plan(&op, &x_l, &shape_l, opts);
            check(&op, &back(&p_l), &want, want_idx.as_deref(), &format!("{name} plan {isa} nhwc"));
        }
    }
}

/// The 28 cases with PyTorch gradients (`grad_output.npy`, `grad_input.npy`): the reference
/// backward, and every plan backward at every level in both layouts (from the forward input,
/// and for max from the forward indices), match PyTorch's `grad_input`. PyTorch accumulates
/// in `f32` in its own order, so sums compare within `1e-5` relative.
#[test]
fn every_golden_gradient_matches_pytorch() {
    let mut seen = 0;
    for dir in cases() {
        if !dir.join("grad_input.npy").exists() {
            continue;
        }
        seen += 1;
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let case: Value = serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
        let op = op_of(&case);
        let input = load(&dir, "input.npy");
        let x: Vec<f32> = input.to_vec().unwrap();
        let go: Vec<f32> = load(&dir, "grad_output.npy").to_vec().unwrap();
        let want: Vec<f32> = load(&dir, "grad_input.npy").to_vec().unwrap();
        let shape = TensorShape::nchw(&input.shape).unwrap();
        let close = |got: &[f32], what: &str| assert_close(got, &want, 1e-5, 1e-6, &format!("{name} {what}"));

        close(&reference::pool_backward(&op, &x, &shape, &go).unwrap(), "reference");
        let shape_l = shape.with_layout(Layout::ChannelsLast);
        let x_l = to_channels_last(&x, &shape);
        let out_shape = op.output_shape(&shape).unwrap();
        let go_l = to_channels_last(&go, &out_shape);
        close(
            &to_channels_first(&reference::pool_backward(&op, &x_l, &shape_l, &go_l).unwrap(), &shape_l),
            "reference nhwc",
        );

        for isa in isas() {
            for (sh, xx, g, layout) in [(&shape, &x, &go, "nchw"), (&shape_l, &x_l, &go_l, "nhwc")] {
                let plan = Plan::<f32>::with_options(&op, sh, PlanOptions::isa(isa)).unwrap();
                let mut y = vec![0.0f32; plan.output_len()];
                let mut gx = vec![f32::NAN; plan.input_len()];
                let back = |v: &[f32]| if layout == "nhwc" { to_channels_first(v, sh) } else { v.to_vec() };
                if op.has_indices() {
                    let mut idx = vec![0i64; plan.output_len()];
                    plan.run_with_indices(xx, &mut y, &mut idx).unwrap();
                    plan.backward_with_indices(&idx, g, &mut gx).unwrap();
                    close(&back(&gx), &format!("plan {isa} {layout} with indices"));
                    gx.fill(f32::NAN);
                } else {
                    plan.run(xx, &mut y).unwrap();
                }
                plan.backward_from_input(xx, &y, g, &mut gx).unwrap();
                close(&back(&gx), &format!("plan {isa} {layout} from input"));
                if !op.has_indices() {
                    gx.fill(f32::NAN);
                    plan.backward(g, &mut gx).unwrap();
                    close(&back(&gx), &format!("plan {isa} {layout}"));
                }
            }
        }
    }
    assert_eq!(seen, 28, "expected 28 golden gradients");
}

#[test]
fn seed_example() {
    let shape = TensorShape::nchw(&[1, 1, 4, 4]).unwrap();
    let x = [1., 3., 2., 4., 5., 6., 1., 2., 7., 8., 9., 0., 4., 3., 2., 1.];
    let op = PoolOp::max(Window::new(&[2, 2]).stride(&[2, 2]));
    assert_eq!(reference::pool::<f32>(&op, &x, &shape).unwrap().values, [6., 4., 8., 9.]);
    for isa in isas() {
        assert_eq!(run_plan::<f32>(&op, &x, &shape, PlanOptions::isa(isa)).values, [6., 4., 8., 9.]);
    }
}
