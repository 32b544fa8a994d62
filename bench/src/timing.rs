//! The timing harness of `simdpool bench`: warm-up, then repeated timed batches; the median and
//! the interquartile spread of the per-call time.

use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Keep calling, untimed, for this long before measuring (at least one call).
    pub warmup: Duration,
    /// Each timed batch runs at least this long (several calls per batch for fast ops).
    pub batch: Duration,
    /// Total time to spend on timed batches (stops early once `max_samples` are taken).
    pub measure: Duration,
    /// At least this many batches, whatever `measure` says.
    pub min_samples: usize,
    /// At most this many batches.
    pub max_samples: usize,
    /// Batches (of one call) when a single call takes longer than `measure`: the slow scalar
    /// reference on big cases is then timed once after its warm-up call, a slow plan a few times.
    pub slow_samples: usize,
}

impl Budget {
    /// For the plans: ~0.2 s per measurement.
    pub const KERNEL: Budget = Budget {
        warmup: Duration::from_millis(40),
        batch: Duration::from_millis(4),
        measure: Duration::from_millis(160),
        min_samples: 5,
        max_samples: 41,
        slow_samples: 3,
    };
    /// For the slow scalar reference: few calls (a single warm-up call and one timed call when
    /// one call is slower than 0.15 s).
    pub const REFERENCE: Budget = Budget {
        warmup: Duration::from_millis(20),
        batch: Duration::from_millis(2),
        measure: Duration::from_millis(150),
        min_samples: 2,
        max_samples: 9,
        slow_samples: 1,
    };
    /// For the bandwidth measurement.
    pub const BANDWIDTH: Budget = Budget {
        warmup: Duration::from_millis(20),
        batch: Duration::from_millis(3),
        measure: Duration::from_millis(60),
        min_samples: 5,
        max_samples: 31,
        slow_samples: 3,
    };

    /// This budget with every duration scaled by `factor` (sample counts unchanged).
    pub fn scaled(self, factor: f64) -> Budget {
        let s = |d: Duration| d.mul_f64(factor);
        Budget { warmup: s(self.warmup), batch: s(self.batch), measure: s(self.measure), ..self }
    }
}

/// Per-call times of one measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Median per-call time over the batches, seconds.
    pub median: f64,
    /// First quartile, seconds.
    pub q1: f64,
    /// Third quartile, seconds.
    pub q3: f64,
    /// Fastest batch, seconds per call.
    pub min: f64,
    /// Number of timed batches.
    pub samples: usize,
    /// Calls per batch.
    pub calls_per_sample: usize,
}

impl Stats {
    /// The interquartile range relative to the median, in percent.
    pub fn spread_pct(&self) -> f64 {
        if self.median > 0.0 { 100.0 * (self.q3 - self.q1) / self.median } else { 0.0 }
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Measures `f`: warm-up, then timed batches of equal call counts.
pub fn measure(budget: &Budget, mut f: impl FnMut()) -> Stats {
    // Warm-up (also estimates the cost of one call).
    let start = Instant::now();
    let mut calls = 0u64;
    loop {
        f();
        calls += 1;
        if start.elapsed() >= budget.warmup {
            break;
        }
    }
    let per_call = start.elapsed().as_secs_f64() / calls as f64;
    let calls_per_sample = ((budget.batch.as_secs_f64() / per_call.max(1e-9)).ceil() as usize).max(1);
    let sample_time = per_call * calls_per_sample as f64;
    let samples = if per_call > budget.measure.as_secs_f64() {
        budget.slow_samples.max(1)
    } else {
        ((budget.measure.as_secs_f64() / sample_time.max(1e-9)) as usize).clamp(budget.min_samples, budget.max_samples)
    };
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        for _ in 0..calls_per_sample {
            f();
        }
        times.push(t.elapsed().as_secs_f64() / calls_per_sample as f64);
    }
    times.sort_by(f64::total_cmp);
    Stats {
        median: quantile(&times, 0.5),
        q1: quantile(&times, 0.25),
        q3: quantile(&times, 0.75),
        min: times[0],
        samples,
        calls_per_sample,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&[7.0], 0.75), 7.0);
    }

    #[test]
    fn measure_counts_calls_and_respects_sample_bounds() {
        let budget = Budget {
            warmup: Duration::ZERO,
            batch: Duration::ZERO,
            measure: Duration::from_secs(3600),
            min_samples: 2,
            max_samples: 3,
            slow_samples: 2,
        };
        let mut calls = 0;
        let s = measure(&budget, || calls += 1);
        assert_eq!(s.samples, 3);
        assert_eq!(s.calls_per_sample, 1);
        assert_eq!(calls, 1 + 3);
        assert!(s.q1 <= s.median && s.median <= s.q3 && s.min <= s.q1);
    }

    #[test]
    fn slow_calls_take_the_slow_sample_count() {
        let budget = Budget {
            warmup: Duration::ZERO,
            batch: Duration::ZERO,
            measure: Duration::from_nanos(1),
            min_samples: 5,
            max_samples: 9,
            slow_samples: 1,
        };
        let mut calls = 0;
        let s = measure(&budget, || {
            calls += 1;
            std::thread::sleep(Duration::from_micros(50));
        });
        assert_eq!((s.samples, s.calls_per_sample, calls), (1, 1, 2));
        assert_eq!(s.spread_pct(), 0.0);
    }
}
