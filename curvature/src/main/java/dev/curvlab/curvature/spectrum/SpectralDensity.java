package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.operator.LinearOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The eigenvalue density {@code phi(t) = (1/N) sum_i delta(t - lambda_i)} of a symmetric operator,
 * estimated by stochastic Lanczos quadrature (SLQ: Golub and Meurant 1994; Ubaru, Chen and Saad,
 * "Fast estimation of tr(f(A)) via stochastic Lanczos quadrature", SIMAX 2017; Ghorbani, Krishnan
 * and Xiao, "An investigation into neural net optimization via Hessian eigenvalue density", ICML
 * 2019), or from an exact spectrum.
 *
 * <p>SLQ: for each of {@code probes} Rademacher vectors {@code v} (normalised to {@code ||v|| = 1};
 * {@code E[v v^T] = I/N}), run m Lanczos steps with full reorthogonalisation from {@code v}
 * ({@link KrylovBasis}); the eigenpairs {@code (theta_i, s_i)} of {@code T_m} are the nodes and
 * weights {@code tau_i = s_{1,i}^2} of the m-point Gauss quadrature for the measure
 * {@code sum_j (v^T u_j)^2 delta(t - lambda_j)}, exact for polynomials of degree {@code < 2m}. The
 * density is the average over probes, each node's weight divided by {@code probes} (so the weights
 * sum to 1, and {@code sum tau theta = mean v^T A v -> tr(A)/N}), broadened by a Gaussian of width
 * sigma: {@code phi(t) = sum_i tau_i exp(-(t - theta_i)^2 / (2 sigma^2)) / (sigma sqrt(2 pi))} on a
 * uniform grid covering the nodes plus {@code 6 sigma}. A probe stops early on breakdown (its
 * Krylov space is invariant; the quadrature is then exact).
 *
 * <p>Probes run in lockstep groups (one product {@code A [q_1 ... q_g]} per Lanczos step), each
 * with its own basis {@code [N, m]}; the group size keeps the bases under
 * {@value #BASIS_BUDGET_BYTES} bytes unless set.
 */
public final class SpectralDensity {
    static final long BASIS_BUDGET_BYTES = 512L << 20;

    private SpectralDensity() {
    }

    /**
     * @param grid {@code [G]} ascending evaluation points
     * @param density {@code [G]} the broadened density at the grid points (integrates to ~1)
     * @param nodes quadrature nodes (Ritz values of all probes, concatenated)
     * @param weights their weights (sum to 1)
     */
    public record Density(double[] grid, double[] density, double[] nodes, double[] weights) {
        /** Trapezoid integral of the density over the grid (~1). */
        public double integral() {
            double s = 0;
            for (int i = 1; i < grid.length; i++) {
                s += 0.5 * (density[i] + density[i - 1]) * (grid[i] - grid[i - 1]);
            }
            return s;
        }

        /** {@code sum tau_i theta_i}: the estimated mean eigenvalue tr(A)/N. */
        public double mean() {
            double s = 0;
            for (int i = 0; i < nodes.length; i++) {
                s += nodes[i] * weights[i];
            }
            return s;
        }
    }

    /**
     * @param edges {@code [bins + 1]} ascending bin edges
     * @param counts {@code [bins]}; bin i is {@code [edges[i], edges[i+1])}, the last bin closed
     */
    public record Histogram(double[] edges, long[] counts) {
    }

    /**
     * @param probes random start vectors; default 10
     * @param steps Lanczos steps per probe (clipped to N); default 80
     * @param sigma Gaussian broadening width; 0 selects {@code 0.01 * (max node - min node)}
     * @param gridPoints grid size G; default 1024
     * @param parallelProbes probes per lockstep group; 0 selects by the memory budget
     * @param seed probe seed
     * @param progress receives {@code (task, probes done, probes)}
     */
    public record SlqOptions(int probes, int steps, double sigma, int gridPoints, int parallelProbes, long seed, ProgressListener progress) {
        public SlqOptions {
            if (probes < 1 || steps < 1 || gridPoints < 2 || parallelProbes < 0) {
                throw new IllegalArgumentException("SlqOptions: need probes >= 1, steps >= 1, gridPoints >= 2, parallelProbes >= 0; got "
                        + probes + ", " + steps + ", " + gridPoints + ", " + parallelProbes);
            }
            if (!(sigma >= 0) || !Double.isFinite(sigma)) {
                throw new IllegalArgumentException("SlqOptions: sigma must be finite and >= 0, got " + sigma);
            }
            if (progress == null) {
                progress = ProgressListener.NONE;
            }
        }

        public static SlqOptions defaults() {
            return new SlqOptions(10, 80, 0.0, 1024, 0, 0L, ProgressListener.NONE);
        }

        public SlqOptions withProbes(int value) {
            return new SlqOptions(value, steps, sigma, gridPoints, parallelProbes, seed, progress);
        }

        public SlqOptions withSteps(int value) {
            return new SlqOptions(probes, value, sigma, gridPoints, parallelProbes, seed, progress);
        }

        public SlqOptions withSigma(double value) {
            return new SlqOptions(probes, steps, value, gridPoints, parallelProbes, seed, progress);
        }

        public SlqOptions withGridPoints(int value) {
            return new SlqOptions(probes, steps, sigma, value, parallelProbes, seed, progress);
        }

        public SlqOptions withParallelProbes(int value) {
            return new SlqOptions(probes, steps, sigma, gridPoints, value, seed, progress);
        }

        public SlqOptions withSeed(long value) {
            return new SlqOptions(probes, steps, sigma, gridPoints, parallelProbes, value, progress);
        }

        public SlqOptions withProgress(ProgressListener value) {
            return new SlqOptions(probes, steps, sigma, gridPoints, parallelProbes, seed, value);
        }
    }

    /** Stochastic Lanczos quadrature; see the class comment. */
    public static Density slq(LinearOperator op, SlqOptions o) {
        if (!op.isSymmetric()) {
            throw new IllegalArgumentException("SLQ needs a symmetric operator; " + op.getClass().getSimpleName()
                    + " reports isSymmetric() = false");
        }
        long n = op.size();
        int m = (int) Math.min(n, o.steps());
        int group = o.parallelProbes() > 0 ? o.parallelProbes()
                : (int) Math.max(1, Math.min(o.probes(), BASIS_BUDGET_BYTES / (8L * n * m)));
        group = Math.min(group, o.probes());
        RandomProbes random = new RandomProbes(o.seed(), n);
        List<KrylovBasis> bases = new ArrayList<>();
        for (int g = 0; g < group; g++) {
            bases.add(new KrylovBasis(op, m));
        }
        List<Double> nodes = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        int done = 0;
        while (done < o.probes()) {
            int g = Math.min(group, o.probes() - done);
            List<KrylovBasis> active = new ArrayList<>();
            for (int c = 0; c < g; c++) {
                KrylovBasis kb = bases.get(c);
                kb.reset(random.rademacher(1));   // one probe at a time: the probes do not depend on the grouping
                active.add(kb);
            }
            double[] norm = new double[g];
            while (!active.isEmpty()) {
                INDArray block = Nd4j.hstack(active.stream().map(KrylovBasis::current).toArray(INDArray[]::new));
                INDArray products = op.matmat(block);
                List<KrylovBasis> next = new ArrayList<>();
                for (int c = 0; c < active.size(); c++) {
                    KrylovBasis kb = active.get(c);
                    int id = bases.indexOf(kb);
                    double beta = kb.extend(products.get(NDArrayIndex.all(), NDArrayIndex.interval(c, c + 1)));
                    double[] a = kb.alphas();
                    double prev = a.length > 1 ? kb.betas()[a.length - 2] : 0;
                    norm[id] = Math.max(norm[id], Math.abs(a[a.length - 1]) + beta + prev);
                    if (kb.size() < m && beta > Lanczos.BREAKDOWN * norm[id]) {
                        kb.accept();
                        next.add(kb);
                    }
                }
                active = next;
            }
            for (int c = 0; c < g; c++) {
                KrylovBasis kb = bases.get(c);
                TridiagonalEigen.Result r = TridiagonalEigen.solve(kb.alphas(), kb.betas(), 0);
                for (int i = 0; i < r.values().length; i++) {
                    double s = r.rows()[0][i];
                    nodes.add(r.values()[i]);
                    weights.add(s * s / o.probes());
                }
            }
            done += g;
            o.progress().progress("slq", done, o.probes());
        }
        double[] nd = nodes.stream().mapToDouble(Double::doubleValue).toArray();
        double[] wt = weights.stream().mapToDouble(Double::doubleValue).toArray();
        return broadened(nd, wt, o.sigma(), o.gridPoints());
    }

    /** The Gaussian-broadened density of an exact spectrum (weights 1/N); sigma 0 selects 1% of the range. */
    public static Density of(double[] eigenvalues, double sigma, int gridPoints) {
        if (eigenvalues.length == 0) {
            throw new IllegalArgumentException("no eigenvalues");
        }
        double[] w = new double[eigenvalues.length];
        Arrays.fill(w, 1.0 / eigenvalues.length);
        return broadened(eigenvalues.clone(), w, sigma, gridPoints);
    }

    /** Counts of {@code eigenvalues} in {@code bins} equal bins spanning [min, max] (a unit range around a single value). */
    public static Histogram histogram(double[] eigenvalues, int bins) {
        if (eigenvalues.length == 0 || bins < 1) {
            throw new IllegalArgumentException("histogram needs eigenvalues and bins >= 1, got " + eigenvalues.length + " values, "
                    + bins + " bins");
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : eigenvalues) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("histogram: non-finite eigenvalue " + v);
            }
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        if (hi == lo) {
            lo -= 0.5;
            hi += 0.5;
        }
        double[] edges = new double[bins + 1];
        for (int i = 0; i <= bins; i++) {
            edges[i] = lo + (hi - lo) * i / bins;
        }
        edges[bins] = hi;
        long[] counts = new long[bins];
        for (double v : eigenvalues) {
            int i = (int) Math.floor((v - lo) / (hi - lo) * bins);
            counts[Math.max(0, Math.min(bins - 1, i))]++;
        }
        return new Histogram(edges, counts);
    }

    private static Density broadened(double[] nodes, double[] weights, double sigma, int gridPoints) {
        if (gridPoints < 2) {
            throw new IllegalArgumentException("gridPoints must be >= 2, got " + gridPoints);
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : nodes) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        double s = sigma > 0 ? sigma : 0.01 * (hi - lo);
        if (!(s > 0)) {
            s = 0.01 * Math.max(1.0, Math.abs(hi));
        }
        double gLo = lo - 6 * s;
        double gHi = hi + 6 * s;
        double[] grid = new double[gridPoints];
        double[] density = new double[gridPoints];
        double norm = 1.0 / (s * Math.sqrt(2 * Math.PI));
        double cutoff = 9 * s;   // exp(-40.5): contributions beyond are below 1e-17 relative
        for (int g = 0; g < gridPoints; g++) {
            grid[g] = gLo + (gHi - gLo) * g / (gridPoints - 1);
        }
        for (int i = 0; i < nodes.length; i++) {
            double w = weights[i] * norm;
            for (int g = 0; g < gridPoints; g++) {
                double d = grid[g] - nodes[i];
                if (Math.abs(d) <= cutoff) {
                    density[g] += w * Math.exp(-0.5 * d * d / (s * s));
                }
            }
        }
        return new Density(grid, density, nodes, weights);
    }
}
