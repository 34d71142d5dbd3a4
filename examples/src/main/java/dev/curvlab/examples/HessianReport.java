package dev.curvlab.examples;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.progress.LoggingProgress;
import dev.curvlab.curvature.spectrum.EigenResult;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.SpectralDensity;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.curvature.spectrum.TraceEstimator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Layer;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The curvature section shared by the image-model reports ({@link DigitsCnnReport},
 * {@link Dl4jDigitsCnnReport}): for the mean training loss {@code L(theta)} of any
 * {@link Sequential} model on {@code data}, the exact Hessian {@code H = d^2 L / d theta^2}
 * ({@code hessian.npy}, AUTO method), its eigenvalues {@code lambda_1 <= ... <= lambda_N} (summary
 * and density, {@code spectrum.png}), the top {@value #LANCZOS_K} by Lanczos checked against the
 * dense ones ({@code max_i |lambda_i^Lanczos - lambda_{N+1-i}|}), the exact trace
 * {@code tr H = sum_i H_ii}, and per parameterised layer l its diagonal block
 * {@code H_ll} (trace, extreme eigenvalues) with a heat map of {@code H} marking the layer
 * boundaries ({@code hessian_heatmap.png}). The blocks tile the diagonal, so the layers' traces
 * sum to {@code tr H}.
 *
 * @param hessian the {@code "hessian"} entry of {@code report.json}
 * @param layers the {@code "layers"} entry: one map per parameterised layer
 */
record HessianReport(Map<String, Object> hessian, List<Map<String, Object>> layers) {
    static final int LANCZOS_K = 5;

    /** Computes the section for {@code model} at {@code theta} and writes its matrix and pictures into {@code out}. */
    static HessianReport compute(Sequential model, Loss loss, Dataset data, INDArray theta, Path out) throws IOException {
        HessianOperator op = new HessianOperator(model, loss, data, theta, 0);
        FullHessian.Result hr = FullHessian.compute(op, FullHessian.Options.defaults().withProgress(new LoggingProgress("columns", 2000))
                .withOut(out.resolve("hessian.npy")));
        INDArray h = hr.matrix();
        double[] eig = SymmetricEigen.eigenvalues(h);
        Map<String, Object> hessian = new LinkedHashMap<>();
        hessian.put("samples", data.n());
        hessian.putAll(spectrum(op, hr, eig));
        LayerBlocks blocks = LayerBlocks.of(model, h);
        double range = Math.max(1e-12, eig[eig.length - 1] - eig[0]);
        SpectralDensity.Density dens = SpectralDensity.of(eig, range / 200, 800);
        ReportPlots.spectrum(out.resolve("spectrum.png"), dens.grid(), dens.density(), eig,
                "Hessian eigenvalue density, N = " + model.parameterCount());
        ReportPlots.heatmap(out.resolve("hessian_heatmap.png"), h, blocks.boundaries(), blocks.names(),
                "Hessian of the training loss, " + model.describe());
        return new HessianReport(hessian, blocks.summaries());
    }

    /** Method, time, symmetry, eigenvalue summary, exact trace and the Lanczos check. */
    private static Map<String, Object> spectrum(HessianOperator op, FullHessian.Result hr, double[] eig) {
        SymmetricEigen.Summary sum = SymmetricEigen.summarize(eig, 1e-10);
        int k = Math.min(LANCZOS_K, eig.length);
        EigenResult top = Lanczos.extremal(op, k, Lanczos.Which.LARGEST);
        double lanczosErr = 0;
        for (int i = 0; i < k; i++) {
            lanczosErr = Math.max(lanczosErr, Math.abs(top.values()[i] - eig[eig.length - 1 - i]));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", hr.method().name().toLowerCase());
        m.put("seconds", hr.seconds());
        m.put("maxAsymmetry", hr.asymmetry());
        m.put("minEigenvalue", sum.min());
        m.put("maxEigenvalue", sum.max());
        m.put("negativeEigenvalues", sum.negative());
        m.put("trace", TraceEstimator.exact(hr.matrix()).value());
        m.put("lanczosTop", top.values());
        m.put("lanczosMaxAbsError", lanczosErr);
        return m;
    }

    /** Prints the section (after the caller's headline). */
    void print() {
        Map<String, Object> h = hessian;
        System.out.printf("  Hessian on %s images: %s in %.2f s, eigenvalues [%.4g, %.4g], %s negative, trace %.6g%n", h.get("samples"),
                h.get("method"), h.get("seconds"), h.get("minEigenvalue"), h.get("maxEigenvalue"), h.get("negativeEigenvalues"), h.get("trace"));
        System.out.printf("  Lanczos top %d %s (max error vs dense %.1e)%n", ((double[]) h.get("lanczosTop")).length,
                Arrays.toString((double[]) h.get("lanczosTop")), h.get("lanczosMaxAbsError"));
        for (Map<String, Object> l : layers) {
            System.out.printf("  layer %s (%s): %d parameters, trace %.4g, top eigenvalue %.4g%n", l.get("layer"), l.get("type"), l.get("parameters"),
                    l.get("trace"), l.get("topEigenvalue"));
        }
    }

    /** The diagonal blocks {@code H_ll} of the parameterised layers, in module order, with their boundaries for the heat map. */
    private record LayerBlocks(long[] boundaries, List<String> names, List<Map<String, Object>> summaries) {
        static LayerBlocks of(Sequential model, INDArray h) {
            List<Long> bounds = new ArrayList<>(List.of(0L));
            List<String> names = new ArrayList<>();
            List<Map<String, Object>> layers = new ArrayList<>();
            for (int l = 0; l < model.modules().size(); l++) {
                Layer m = model.modules().get(l);
                if (m.parameterShapes().isEmpty()) {
                    continue;
                }
                long[] r = model.parameterRange(l);
                bounds.add(r[1]);
                names.add(m.type() + " " + l);
                INDArray block = h.get(NDArrayIndex.interval(r[0], r[1]), NDArrayIndex.interval(r[0], r[1])).dup('c');
                double[] be = SymmetricEigen.eigenvalues(block);
                layers.add(Map.of("layer", l, "type", m.type(), "parameters", r[1] - r[0], "trace", TraceEstimator.exact(block).value(),
                        "topEigenvalue", be[be.length - 1], "minEigenvalue", be[0]));
            }
            return new LayerBlocks(bounds.stream().mapToLong(Long::longValue).toArray(), names, layers);
        }
    }
}
