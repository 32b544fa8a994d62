//! simdpool's peers on the benchmark suite: each peer turns a suite case into a closure that runs
//! the case on that library (on one thread), or says why the library cannot express it. The
//! bench checks every peer's output against `simdpool::reference` before timing it.

use simdpool::{Layout, PoolOp};
use simdpool_bench::Workload;

/// A prepared run of one case on one library: `run` pools once; `output` runs once and returns
/// the result as `f32` in the workload's memory layout (for the check against the reference).
pub struct PeerRun {
    /// Pools once (the timed part).
    pub run: Box<dyn FnMut()>,
    /// Pools once and returns the values, flattened in the workload's layout.
    pub output: Box<dyn FnMut() -> Result<Vec<f32>, String>>,
}

/// The peers, in report order.
pub const PEERS: [&str; 3] = ["candle", "burn", "tract"];

/// Prepares `peer` on the workload, or returns why it cannot express the case.
pub fn prepare(peer: &str, w: &Workload) -> Result<PeerRun, String> {
    match peer {
        "candle" => candle::prepare(w),
        "burn" => burn::prepare(w),
        "tract" => tract::prepare(w),
        other => Err(format!("unknown peer {other}")),
    }
}

/// The window parameters of a windowed op, per spatial axis: (kernel, stride, padding, dilation,
/// ceil mode, count_include_pad). Errors for asymmetric padding.
struct Win {
    k: Vec<usize>,
    s: Vec<usize>,
    p: Vec<usize>,
    d: Vec<usize>,
    ceil: bool,
    include_pad: bool,
}

fn window(w: &Workload) -> Option<Win> {
    let (win, include_pad) = match &w.op {
        PoolOp::Max(win) => (win, false),
        PoolOp::Avg(win, o) => {
            if o.divisor_override.is_some() {
                return None;
            }
            (win, o.count_include_pad)
        }
        _ => return None,
    };
    let axes = win.resolve(w.shape.spatial()).ok()?;
    if axes.iter().any(|a| a.pad_begin != a.pad_end) {
        return None;
    }
    Some(Win {
        k: axes.iter().map(|a| a.kernel).collect(),
        s: axes.iter().map(|a| a.stride).collect(),
        p: axes.iter().map(|a| a.pad_begin).collect(),
        d: axes.iter().map(|a| a.dilation).collect(),
        ceil: win.is_ceil_mode(),
        include_pad,
    })
}

fn f32_input(w: &Workload) -> Result<Vec<f32>, String> {
    w.input::<f32>().map(<[f32]>::to_vec).ok_or_else(|| format!("{} input only (benchmarked in f32 here)", w.dtype))
}

mod candle {
    use super::*;
    use candle_core::{DType, Device, Tensor};

    pub fn prepare(w: &Workload) -> Result<PeerRun, String> {
        if w.layout == Layout::ChannelsLast {
            return Err("pooling is NCHW only".into());
        }
        let dims = w.shape.dims();
        let (n, c) = (w.shape.batch(), w.shape.channels());
        let x = match w.dtype {
            simdpool::DType::F32 => Tensor::from_vec(f32_input(w)?, dims.as_slice(), &Device::Cpu),
            simdpool::DType::U8 => {
                Tensor::from_vec(w.input::<u8>().expect("u8 case").to_vec(), dims.as_slice(), &Device::Cpu)
            }
            d => return Err(format!("{d} not benchmarked")),
        }
        .map_err(|e| e.to_string())?;
        let op: Box<dyn Fn(&Tensor) -> candle_core::Result<Tensor>> = match &w.op {
            PoolOp::GlobalAvg => Box::new(move |x: &Tensor| x.reshape((n, c, ())).and_then(|t| t.mean_keepdim(2))),
            PoolOp::GlobalMax => Box::new(move |x: &Tensor| x.reshape((n, c, ())).and_then(|t| t.max_keepdim(2))),
            PoolOp::Max(_) | PoolOp::Avg(..) => {
                let win = window(w).ok_or("only symmetric padding is expressible")?;
                if win.p.iter().any(|&p| p > 0) {
                    return Err("pool2d has no padding".into());
                }
                if win.d.iter().any(|&d| d > 1) || win.ceil {
                    return Err("pool2d has no dilation or ceil mode".into());
                }
                let (k, s) = match w.shape.rank() {
                    // 1-D as 2-D with a height of 1 (a free reshape).
                    1 => ((1, win.k[0]), (1, win.s[0])),
                    2 => ((win.k[0], win.k[1]), (win.s[0], win.s[1])),
                    _ => return Err("no 3-D pooling".into()),
                };
                let rank = w.shape.rank();
                let l = w.shape.spatial()[0];
                let is_max = matches!(w.op, PoolOp::Max(_));
                Box::new(move |x: &Tensor| {
                    let x4 = if rank == 1 { x.reshape((n, c, 1, l))? } else { x.clone() };
                    if is_max { x4.max_pool2d_with_stride(k, s) } else { x4.avg_pool2d_with_stride(k, s) }
                })
            }
            PoolOp::AdaptiveAvg(_) | PoolOp::AdaptiveMax(_) => return Err("no adaptive pooling".into()),
            PoolOp::Lp(..) => return Err("no Lp pooling".into()),
        };
        let op = std::rc::Rc::new(op);
        let (x1, op1) = (x.clone(), op.clone());
        Ok(PeerRun {
            run: Box::new(move || {
                std::hint::black_box(op1(&x1).expect("candle pool"));
            }),
            output: Box::new(move || {
                let y = op(&x).map_err(|e| e.to_string())?;
                y.flatten_all()
                    .and_then(|t| t.to_dtype(DType::F32))
                    .and_then(|t| t.to_vec1::<f32>())
                    .map_err(|e| e.to_string())
            }),
        })
    }
}

// burn-ndarray 0.22 marks itself deprecated in favour of burn-flex; the issue asks for the ndarray
// backend with its SIMD feature, so it is used as is.
#[allow(deprecated)]
mod burn {
    use super::*;
    use burn_backend::ops::{FloatTensorOps, ModuleOps};
    use burn_backend::{Shape, TensorData};
    use burn_ndarray::{NdArray, NdArrayTensor};

    type B = NdArray;

    fn to_vec(t: NdArrayTensor) -> Result<Vec<f32>, String> {
        match t {
            NdArrayTensor::F32(s) => Ok(s.view().iter().copied().collect()),
            _ => Err("unexpected output dtype".into()),
        }
    }

    pub fn prepare(w: &Workload) -> Result<PeerRun, String> {
        if w.layout == Layout::ChannelsLast {
            return Err("pooling is NCHW only".into());
        }
        if w.dtype != simdpool::DType::F32 {
            return Err("pools float tensors only".into());
        }
        let x = NdArrayTensor::from_data(TensorData::new(f32_input(w)?, w.shape.dims()));
        let (n, c, plane) = (w.shape.batch(), w.shape.channels(), w.shape.plane());
        let rank = w.shape.rank();
        let flat = move |x| <B as FloatTensorOps<B>>::float_reshape(x, Shape::from(vec![n, c, plane]));
        let op: Box<dyn Fn(NdArrayTensor) -> NdArrayTensor> = match &w.op {
            PoolOp::GlobalAvg => Box::new(move |x| <B as FloatTensorOps<B>>::float_mean_dim(flat(x), 2)),
            PoolOp::GlobalMax => Box::new(move |x| <B as FloatTensorOps<B>>::float_max_dim(flat(x), 2)),
            PoolOp::AdaptiveAvg(out) if rank == 2 => {
                let o = [out[0], out[1]];
                Box::new(move |x| <B as ModuleOps<B>>::adaptive_avg_pool2d(x, o))
            }
            PoolOp::AdaptiveAvg(out) if rank == 1 => {
                let o = out[0];
                Box::new(move |x| <B as ModuleOps<B>>::adaptive_avg_pool1d(x, o))
            }
            PoolOp::Max(_) | PoolOp::Avg(..) => {
                let win = window(w).ok_or("only symmetric padding is expressible")?;
                let is_max = matches!(w.op, PoolOp::Max(_));
                match (rank, is_max) {
                    (1, true) => Box::new(move |x| {
                        <B as ModuleOps<B>>::max_pool1d(x, win.k[0], win.s[0], win.p[0], win.d[0], win.ceil)
                    }),
                    (2, true) => Box::new(move |x| {
                        <B as ModuleOps<B>>::max_pool2d(
                            x,
                            [win.k[0], win.k[1]],
                            [win.s[0], win.s[1]],
                            [win.p[0], win.p[1]],
                            [win.d[0], win.d[1]],
                            win.ceil,
                        )
                    }),
                    (_, true) => return Err("no 3-D max pooling".into()),
                    (_, false) if win.d.iter().any(|&d| d > 1) => return Err("avg pooling has no dilation".into()),
                    (1, false) => Box::new(move |x| {
                        <B as ModuleOps<B>>::avg_pool1d(x, win.k[0], win.s[0], win.p[0], win.include_pad, win.ceil)
                    }),
                    (2, false) => Box::new(move |x| {
                        <B as ModuleOps<B>>::avg_pool2d(
                            x,
                            [win.k[0], win.k[1]],
                            [win.s[0], win.s[1]],
                            [win.p[0], win.p[1]],
                            win.include_pad,
                            win.ceil,
                        )
                    }),
                    (_, false) => return Err("no 3-D avg pooling".into()),
                }
            }
            PoolOp::AdaptiveAvg(_) => return Err("no 3-D adaptive avg pooling".into()),
            PoolOp::AdaptiveMax(_) => return Err("no adaptive max pooling".into()),
            PoolOp::Lp(..) => return Err("no Lp pooling".into()),
        };
        let op = std::rc::Rc::new(op);
        let (x1, op1) = (x.clone(), op.clone());
        Ok(PeerRun {
            run: Box::new(move || {
                std::hint::black_box(op1(x1.clone()));
            }),
            output: Box::new(move || to_vec(op(x.clone()))),
        })
    }
}

mod tract {
    use super::*;
    use tract_core::internal::*;
    use tract_core::ops::cnn::{MaxPool, PaddingSpec, PoolSpec, SumPool};
    use tract_core::ops::nn::DataFormat;

    fn build(w: &Workload) -> Result<(Arc<TypedRunnableModel>, TValue), String> {
        let spatial = w.shape.spatial().to_vec();
        let rank = spatial.len();
        let c = w.shape.channels();
        let (k, s, p, d, ceil, include_pad, is_max) = match &w.op {
            // A global pool is the window that covers the whole plane.
            PoolOp::GlobalMax => (spatial, vec![1; rank], vec![0; rank], vec![1; rank], false, false, true),
            PoolOp::GlobalAvg => (spatial, vec![1; rank], vec![0; rank], vec![1; rank], false, false, false),
            PoolOp::Max(_) | PoolOp::Avg(..) => {
                let win = window(w).ok_or("only symmetric padding is expressible")?;
                (win.k, win.s, win.p, win.d, win.ceil, win.include_pad, matches!(w.op, PoolOp::Max(_)))
            }
            PoolOp::AdaptiveAvg(_) | PoolOp::AdaptiveMax(_) => return Err("no adaptive pooling in tract-core".into()),
            PoolOp::Lp(..) => return Err("no Lp pooling in tract-core".into()),
        };
        let spec = PoolSpec {
            data_format: match w.layout {
                Layout::ChannelsFirst => DataFormat::NCHW,
                Layout::ChannelsLast => DataFormat::NHWC,
            },
            kernel_shape: k.into(),
            padding: PaddingSpec::ExplicitOnnxPool(p.clone().into(), p.into(), ceil),
            dilations: Some(d.into()),
            strides: Some(s.into()),
            input_channels: c,
            output_channels: c,
        };
        let dims = w.shape.dims();
        let x = match w.dtype {
            simdpool::DType::F32 => Tensor::from_shape(&dims, w.input::<f32>().expect("f32 case")),
            simdpool::DType::U8 => Tensor::from_shape(&dims, w.input::<u8>().expect("u8 case")),
            d => return Err(format!("{d} not benchmarked")),
        }
        .map_err(|e| e.to_string())?;
        let e = |e: TractError| e.to_string();
        let mut model = TypedModel::default();
        let src = model.add_source("x", TypedFact::shape_and_dt_of(&x)).map_err(e)?;
        let out = if is_max {
            model.wire_node("pool", MaxPool::new(spec, None), &[src])
        } else {
            if w.dtype != simdpool::DType::F32 {
                return Err("average of integers not benchmarked".into());
            }
            model.wire_node("pool", SumPool::new(spec, include_pad, true), &[src])
        }
        .map_err(e)?;
        model.select_output_outlets(&out).map_err(e)?;
        let plan = model.into_optimized().map_err(e)?.into_runnable().map_err(e)?;
        Ok((plan, x.into_tvalue()))
    }

    pub fn prepare(w: &Workload) -> Result<PeerRun, String> {
        let (plan, x) = build(w)?;
        let (plan1, x1) = (plan.clone(), x.clone());
        Ok(PeerRun {
            run: Box::new(move || {
                std::hint::black_box(plan1.run(tvec!(x1.clone())).expect("tract pool"));
            }),
            output: Box::new(move || {
                let y = plan.run(tvec!(x.clone())).map_err(|e| e.to_string())?;
                let y = y[0].cast_to::<f32>().map_err(|e| e.to_string())?;
                Ok(y.to_plain_array_view::<f32>().map_err(|e| e.to_string())?.iter().copied().collect())
            }),
        })
    }
}
