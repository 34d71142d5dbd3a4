package dev.curvlab.bench;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.HessianTooLargeException;
import dev.curvlab.curvature.operator.HessianOperator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * How the dense Hessian's time and memory grow with N: the structured method on every network of
 * {@link Problems#SCALING} (N = 1,441 ... 28,458) and the blocked method on the smaller ones, with
 * the peak resident memory of the process beside N^2 x 8 bytes. Writes {@code scaling.csv} and a
 * log-log plot {@code scaling.png} (time vs N per method, with an N^2 reference line).
 *
 * <p>Sizes whose matrix plus working memory (about 1.6 x N^2 x 8 bytes) does not fit in the
 * machine's available memory are refused before any work and recorded as skipped.
 *
 * <p>Run: {@code java -cp bench/target/curvlab-bench.jar dev.curvlab.bench.ScalingReport
 * [--out DIR] [--max-n N] [--blocked-max-n N] [--repeats R]}. Times are the best of R runs (R = 3 by
 * default, 1 above N = 10,000) after one warm-up on the smallest network; results are machine-specific.
 */
public final class ScalingReport {
    private static final String[] HEADER = {"architecture", "loss", "batch", "N", "method", "seconds", "runs",
        "rss_before_mb", "peak_rss_mb", "peak_increase_mb", "matrix_mb", "fwd_over_rev_floor_s", "threads", "load1", "status"};
    /** ND4J's GEMM peak on the reference machine (shared/README.md), for the forward-over-reverse floor 12 B N^2 flops. */
    private static final double GEMM_FLOPS = 45e9;

    private final Path out;
    private final long maxN;
    private final long blockedMaxN;
    private final int repeats;
    private final List<String[]> rows = new ArrayList<>();
    private final boolean peakResettable;

    private ScalingReport(Path out, long maxN, long blockedMaxN, int repeats) {
        this.out = out;
        this.maxN = maxN;
        this.blockedMaxN = blockedMaxN;
        this.repeats = repeats;
        this.peakResettable = ProcessMemory.resetPeak();
    }

    public static void main(String[] args) throws IOException {
        // before ND4J or AWT load: native memory limited only by the machine, no display needed
        setIfAbsent("java.awt.headless", "true");
        setIfAbsent("org.bytedeco.javacpp.maxphysicalbytes", "0");
        setIfAbsent("org.bytedeco.javacpp.maxbytes", "0");
        setIfAbsent("curvlab.log.level", "WARN");
        Path out = Path.of("bench/results");
        long maxN = Long.MAX_VALUE;
        long blockedMaxN = 6000;
        int repeats = 3;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--out" -> out = Path.of(require(args[i], value));
                case "--max-n" -> maxN = Long.parseLong(require(args[i], value));
                case "--blocked-max-n" -> blockedMaxN = Long.parseLong(require(args[i], value));
                case "--repeats" -> repeats = Integer.parseInt(require(args[i], value));
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--out DIR, --max-n N, --blocked-max-n N, --repeats R)");
            }
            i++;
        }
        new ScalingReport(out, maxN, blockedMaxN, repeats).run();
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }

    private void run() throws IOException {
        System.out.printf(Locale.ROOT, "scaling report: %d cores, OMP_NUM_THREADS=%s, load average %.2f, MemAvailable %.1f GiB%s%n",
                Runtime.getRuntime().availableProcessors(), threads(), ProcessMemory.load(), ProcessMemory.available() / (double) (1L << 30),
                peakResettable ? "" : " (VmHWM cannot be reset here: peaks are lifetime peaks)");
        warmUp();
        for (Problems.Mlp p : Problems.SCALING) {
            if (p.parameters() > maxN) {
                continue;
            }
            measure(p, HessianMethod.STRUCTURED);
            if (p.parameters() <= blockedMaxN) {
                measure(p, HessianMethod.BLOCKED);
            }
        }
        Files.createDirectories(out);
        writeCsv(out.resolve("scaling.csv"));
        writePlot(out.resolve("scaling.png"));
        System.out.println("wrote " + out.resolve("scaling.csv") + " and " + out.resolve("scaling.png"));
    }

    /** One untimed run per method on the smallest network, so the JIT has compiled the engine before timing. */
    private void warmUp() throws IOException {
        Problems.Instance w = Problems.SCALING.get(0).build();
        for (HessianMethod m : new HessianMethod[] {HessianMethod.STRUCTURED, HessianMethod.BLOCKED}) {
            FullHessian.Result r = FullHessian.compute(operator(w), FullHessian.Options.defaults().withMethod(m));
            Problems.release(r.matrix());
        }
    }

    private static HessianOperator operator(Problems.Instance p) {
        return new HessianOperator(p.model(), p.problem().loss(), p.data(), p.theta(), 0);
    }

    private void measure(Problems.Mlp p, HessianMethod method) {
        long n = p.parameters();
        double matrix = 8.0 * n * n;
        double need = 1.6 * matrix + (1L << 29);
        long available = ProcessMemory.available();
        int runs = n > 10_000 ? 1 : repeats;
        String status = "ok";
        double best = Double.NaN;
        long before = ProcessMemory.rss();
        long peak = -1;
        if (available > 0 && need > 0.9 * available) {
            status = String.format(Locale.ROOT, "skipped: needs about %.1f GiB, %.1f GiB available", need / (1L << 30), available / (double) (1L << 30));
        } else {
            Problems.Instance inst = p.build();
            HessianOperator op = operator(inst);
            FullHessian.Options o = FullHessian.Options.defaults().withMethod(method);
            ProcessMemory.settle();
            before = ProcessMemory.rss();
            ProcessMemory.resetPeak();
            try {
                for (int r = 0; r < runs; r++) {
                    long t0 = System.nanoTime();
                    FullHessian.Result res = FullHessian.compute(op, o);
                    double s = (System.nanoTime() - t0) / 1e9;
                    Problems.release(res.matrix());
                    best = Double.isNaN(best) ? s : Math.min(best, s);
                }
            } catch (HessianTooLargeException e) {
                status = "refused by preflight: " + e.getMessage();
            } catch (IOException | RuntimeException e) {
                status = "failed: " + e;
            }
            peak = ProcessMemory.peak();
        }
        double floor = 12.0 * p.batch() * n * n / GEMM_FLOPS;
        String[] row = {p.architecture(), p.loss().name(), Integer.toString(p.batch()), Long.toString(n),
            method.name().toLowerCase(Locale.ROOT), fmt(best), Integer.toString(runs), mb(before), mb(peak),
            peak > 0 && before > 0 ? String.format(Locale.ROOT, "%.1f", (peak - before) / (double) (1 << 20)) : "", fmt(matrix / (1 << 20)), fmt(floor), threads(),
            fmt(ProcessMemory.load()), status};
        rows.add(row);
        System.out.printf(Locale.ROOT, "%-14s N=%6d %-10s %9s s  peak RSS %8s MB (+%s MB; N^2x8 = %s MB)  %s%n",
                p.architecture(), n, row[4], row[5], row[8], row[9], row[10], status);
    }

    private static String threads() {
        String t = System.getenv("OMP_NUM_THREADS");
        return t == null ? "unset" : t;
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, v >= 100 ? "%.1f" : "%.4g", v);
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "" : String.format(Locale.ROOT, "%.1f", bytes / (double) (1 << 20));
    }

    private void writeCsv(Path file) throws IOException {
        java.io.StringWriter text = new java.io.StringWriter();
        try (PrintWriter w = new PrintWriter(text)) {
            w.println(String.join(",", HEADER));
            for (String[] r : rows) {
                String[] q = r.clone();
                q[q.length - 1] = "\"" + q[q.length - 1].replace("\"", "'") + "\"";
                w.println(String.join(",", q));
            }
        }
        dev.curvlab.nn.io.AtomicFiles.write(file, text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void writePlot(Path file) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(600)
                .title(String.format(Locale.ROOT, "Dense Hessian time vs N (float64, OMP_NUM_THREADS=%s, load %.1f)", threads(), ProcessMemory.load()))
                .xAxisTitle("N (parameters)").yAxisTitle("seconds").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        double refN = 0;
        double refT = 0;
        double minN = Double.MAX_VALUE;
        double maxN = 0;
        double minT = Double.MAX_VALUE;
        double maxT = 0;
        for (String method : new String[] {"structured", "blocked"}) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (String[] r : rows) {
                if (r[4].equals(method) && r[14].equals("ok")) {
                    double n = Double.parseDouble(r[3]);
                    double t = Double.parseDouble(r[5]);
                    xs.add(n);
                    ys.add(t);
                    minN = Math.min(minN, n);
                    minT = Math.min(minT, t);
                    maxT = Math.max(maxT, t);
                    maxN = Math.max(maxN, n);
                    if (method.equals("structured") && n > refN) {
                        refN = n;
                        refT = t;
                    }
                }
            }
            if (!xs.isEmpty()) {
                chart.addSeries(method, xs, ys).setMarker(SeriesMarkers.CIRCLE);
            }
        }
        if (refN > 0 && maxN > minN) {
            double c = refT / (refN * refN);
            XYSeries ref = chart.addSeries("~ N^2 (through largest structured)", new double[] {minN, maxN},
                    new double[] {c * minN * minN, c * maxN * maxN});
            ref.setMarker(SeriesMarkers.NONE);
            ref.setLineStyle(SeriesLines.DASH_DASH);
            minT = Math.min(minT, c * minN * minN);
        }
        if (maxN > 0) {   // whole decades, so the log axis has labelled ticks
            chart.getStyler().setXAxisMin(Math.pow(10, Math.floor(Math.log10(minN))));
            chart.getStyler().setXAxisMax(Math.pow(10, Math.ceil(Math.log10(maxN))));
            chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(minT))));
            chart.getStyler().setYAxisMax(Math.pow(10, Math.ceil(Math.log10(maxT))));
        }
        if (chart.getSeriesMap().isEmpty()) {
            chart.addSeries("no successful runs", new double[] {1, 2}, new double[] {1, 1});
        }
        dev.curvlab.nn.io.AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }
}
