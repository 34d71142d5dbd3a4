package dev.curvlab.curvature.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.laplace.GlmPredictive;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.Structure;
import dev.curvlab.curvature.laplace.Subset;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Sequential;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code kfac}, {@code diag}, {@code laplace} and {@code predict} on a CNN model file (conv, avg and
 * max pooling, flatten, dense): diag --of ggn against the diagonal of {@code curvlab ggn} (the
 * engine's dense GGN, an independent path), the kron posterior and predictive against the library
 * calls, and one clear line for the exact Hessian diagonal (which needs a dense chain) and for images of the wrong shape.
 */
class CnnKfacLaplaceCliTest {
    static final double TOL = Tolerances.CLOSED_FORM;

    @TempDir
    Path dir;

    CliFixture fixture() throws Exception {
        Sequential m = CnnCliTest.tinyCnn();
        double[] cls = {0, 1, 2, 1, 0, 2};
        return CliFixture.write(dir, m, Losses.CROSS_ENTROPY, m.initialParameters(3).addi(CliFixture.randn(4, m.parameterCount()).muli(0.1)),
                CliFixture.randn(5, 6, 1, 5, 5), Nd4j.create(cls, new long[] {6}, DataType.DOUBLE));
    }

    @Test
    void kfacAndDiagOnACnn() throws Exception {
        CliFixture f = fixture();
        CurvlabCliTest.ok(f.args("ggn", "--out", f.file("ggn.npy"), "--quiet"));
        INDArray ggn = NpyFile.read(f.file("ggn.npy"));
        CurvlabCliTest.ok(f.args("diag", "--of", "ggn", "--out", f.file("d.npy"), "--quiet"));
        CurvlabCliTest.assertClose("diag GGN of a CNN", NpyFile.read(f.file("d.npy")), Nd4j.diag(ggn).reshape(ggn.size(0)), TOL);
        CurvlabCliTest.ok(f.args("kfac", "--ekfac", "--factors", f.file("F"), "--out", f.file("M.npy"), "--quiet"));
        KfacFactors want = Kfac.compute(f.model(), f.loss(), f.data(), f.theta(), new Kfac.Options(dev.curvlab.curvature.kfac.KfacVariant.EXACT, 1, 0,
                true));
        CurvlabCliTest.assertClose("A_0 (conv)", NpyFile.read(f.file("F").resolve("A_0.npy")), want.a().get(0), TOL);
        CurvlabCliTest.assertClose("EKFAC dense", NpyFile.read(f.file("M.npy")), want.dense(), TOL);
        JsonNode meta = new ObjectMapper().readTree(f.file("F").resolve("factors.json").toFile());
        assertTrue(meta.get("transposed_weights").get(0).asBoolean(), meta::toString);
        CliFixture.Run hessian = CliFixture.run(f.args("diag", "--of", "hessian", "--out", f.file("h.npy")));
        assertEquals(1, hessian.code(), hessian::toString);
        assertEquals(1, hessian.errLines().size(), hessian::toString);
        assertTrue(hessian.err().contains("chains of dense layers only"), hessian::toString);
        assertFalse(Files.exists(f.file("h.npy")));
    }

    @Test
    void laplaceAndPredictOnACnn() throws Exception {
        CliFixture f = fixture();
        Path post = f.file("post");
        CurvlabCliTest.ok(f.args("laplace", "--structure", "kron", "--subset", "all", "--prior-precision", "2", "--report", f.file("laplace.json"),
                "--posterior", post, "--quiet"));
        Laplace want = Laplace.fit(f.model(), f.loss(), f.data(), f.theta(), Laplace.Options.of(Structure.KRON, Subset.ALL, 2.0), ProgressListener.NONE);
        JsonNode json = new ObjectMapper().readTree(f.file("laplace.json").toFile());
        assertEquals(want.logMarginalLikelihood(), json.get("log_marginal_likelihood").asDouble(), TOL * Math.abs(want.logMarginalLikelihood()));
        assertEquals(f.model().parameterCount(), json.get("n_params").asLong());
        CurvlabCliTest.ok("predict", "--posterior", post.toString(), "--x", f.xFile().toString(), "--out", f.file("p.npy").toString(), "--var",
                f.file("v.npy").toString(), "--quiet");
        GlmPredictive.Prediction pr = GlmPredictive.predict(want, f.data().x(), 0, 0, ProgressListener.NONE);
        CurvlabCliTest.assertClose("probabilities", NpyFile.read(f.file("p.npy")), pr.mean(), TOL);
        CurvlabCliTest.assertClose("variance of f*", NpyFile.read(f.file("v.npy")), pr.variance(), TOL);
        NpyFile.write(f.file("bad.npy"), Nd4j.zeros(DataType.DOUBLE, 2, 1, 4, 4));
        CliFixture.Run badX = CliFixture.run("predict", "--posterior", post.toString(), "--x", f.file("bad.npy").toString(), "--out",
                f.file("pb.npy").toString());
        assertEquals(1, badX.code(), badX::toString);
        assertEquals(1, badX.errLines().size(), badX::toString);
        assertTrue(badX.err().contains("[n, 1, 5, 5]"), badX::toString);
        assertFalse(Files.exists(f.file("pb.npy")));
        CliFixture.Run hessianDiag = CliFixture.run(f.args("laplace", "--structure", "diag", "--curvature", "hessian", "--report", f.file("h.json")));
        assertEquals(1, hessianDiag.code(), hessianDiag::toString);
        assertEquals(1, hessianDiag.errLines().size(), hessianDiag::toString);
        assertFalse(Files.exists(f.file("h.json")));
        CurvlabCliTest.ok(f.args("laplace", "--structure", "full", "--subset", "last-layer", "--optimize", "--report", f.file("ll.json"), "--quiet"));
        JsonNode ll = new ObjectMapper().readTree(f.file("ll.json").toFile());
        assertEquals(f.model().modules().get(4).parameterCount(), ll.get("n_params").asLong());
    }
}
