package dev.curvlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.dl4j.Dl4jConvImport;
import dev.curvlab.nn.dl4j.Dl4jImport;
import dev.curvlab.nn.dl4j.ImportedModel;
import dev.curvlab.nn.io.NpyFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

/**
 * The DL4J digits CNN example end to end (2 filters, 2 epochs, 40 images): the import agrees with
 * DL4J (outputs, loss, gradient), the report is self-consistent (exact trace = diagonal sum, Lanczos
 * = dense top eigenvalues, layer traces sum to the trace), and Hessian columns equal central
 * differences of DL4J's own gradient, read back from the DL4J model file the example wrote: a path
 * that shares no code with curvlab's engine.
 */
class Dl4jDigitsCnnReportTest {
    private static final int SAMPLES = 40;

    @TempDir
    Path dir;

    @Test
    void importedCnnMatchesDl4jAndItsHessianIsTheDerivativeOfDl4jsGradient() throws Exception {
        int code = new CommandLine(new Dl4jDigitsCnnReport()).execute("--filters", "2", "--epochs", "2", "--samples", String.valueOf(SAMPLES),
                "--out", dir.toString());
        assertEquals(0, code);
        for (String f : new String[] {"report.json", "hessian.npy", "model.json", "params.npy", "dl4j-model.zip", "loss_curve.png", "spectrum.png",
            "hessian_heatmap.png"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        JsonNode r = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertEquals("[1, 8, 8]-conv2x3x3p1x1(tanh)-maxpool2x2-flatten-10", r.get("model").get("architecture").asText());
        JsonNode parity = r.get("dl4jParity");
        assertTrue(parity.get("maxOutputDifference").asDouble() <= Tolerances.EXACT, parity.toString());
        assertEquals(parity.get("dl4jScore").asDouble(), parity.get("curvlabLoss").asDouble(), Tolerances.EXACT, parity.toString());
        assertTrue(parity.get("gradientRelativeError").asDouble() <= Tolerances.EXACT, parity.toString());

        INDArray h = NpyFile.read(dir.resolve("hessian.npy"));
        assertEquals(2 * 9 + 2 + 32 * 10 + 10, h.size(0));
        JsonNode hess = r.get("hessian");
        assertEquals(Nd4j.diag(h).sumNumber().doubleValue(), hess.get("trace").asDouble(), Tolerances.CLOSED_FORM);
        assertTrue(hess.get("lanczosMaxAbsError").asDouble() < 1e-8, "Lanczos vs dense: " + hess.get("lanczosMaxAbsError"));
        double layerTraces = 0;
        for (JsonNode l : r.get("layers")) {
            layerTraces += l.get("trace").asDouble();
        }
        assertEquals(hess.get("trace").asDouble(), layerTraces, Tolerances.CLOSED_FORM, "per-layer traces sum to the trace");

        MultiLayerNetwork net = Dl4jDigitsCnnReport.readDl4jModel(dir);
        ImportedModel imported = Dl4jImport.fromNetwork(net);
        assertEquals(NpyFile.read(dir.resolve("params.npy")), imported.parameters(), "params.npy is the DL4J model's point");
        DataSet data = Dl4jDigitsCnnReport.toDl4j(Datasets.digits().split(0.8, 1).train().rows(0, SAMPLES));
        INDArray dl4jIndex = dl4jIndexOf(net, imported);
        for (int j : new int[] {0, 17, 18, 19, 20, 123, 339, 340, 349}) {       // conv W, conv b, dense W, dense b
            INDArray column = centralDifference(net, imported, data, dl4jIndex.getInt(j));
            INDArray actual = h.getColumn(j).dup();
            assertTrue(Comparison.close(actual, column, Tolerances.FD_FIRST),
                    () -> Comparison.describe("Hessian column " + j + " vs central differences of DL4J's gradient", actual, column, Tolerances.FD_FIRST));
        }
    }

    /** For each curvlab parameter index, the index of the same parameter in DL4J's flat {@code params()}. */
    private static INDArray dl4jIndexOf(MultiLayerNetwork net, ImportedModel imported) {
        INDArray saved = net.params().dup();
        net.setParams(Nd4j.arange(net.numParams()).castTo(DataType.DOUBLE).reshape(1, net.numParams()));
        INDArray index = Dl4jConvImport.fromDl4jTable(net, imported, net.paramTable());
        net.setParams(saved);
        return index;
    }

    /** {@code (g(theta + h e_k) - g(theta - h e_k)) / 2h} with g DL4J's gradient of its mean score (its table divided by n), curvlab layout. */
    private static INDArray centralDifference(MultiLayerNetwork net, ImportedModel imported, DataSet data, int dl4jParameter) {
        double theta = net.params().getDouble(dl4jParameter);
        INDArray plus = dl4jGradient(net, imported, data, dl4jParameter, theta + Tolerances.FD_STEP);
        INDArray minus = dl4jGradient(net, imported, data, dl4jParameter, theta - Tolerances.FD_STEP);
        net.params().putScalar(dl4jParameter, theta);
        return plus.sub(minus).divi(2 * Tolerances.FD_STEP * data.numExamples());
    }

    private static INDArray dl4jGradient(MultiLayerNetwork net, ImportedModel imported, DataSet data, int dl4jParameter, double value) {
        net.params().putScalar(dl4jParameter, value);
        net.setInput(data.getFeatures());
        net.setLabels(data.getLabels());
        net.computeGradientAndScore();
        return Dl4jConvImport.fromDl4jTable(net, imported, net.gradient().gradientForVariable()).dup();
    }
}
