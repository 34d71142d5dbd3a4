package dev.curvlab.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import dev.curvlab.nn.loss.Losses;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The benchmark problems have the anchor's sizes, and the Fisher check the benchmark relies on holds. */
class ProblemsTest {

    @Test
    void problemsHaveTheAnchorSizes() {
        assertEquals(1441, Problems.SMALL.parameters());
        assertEquals(5699, Problems.MEDIUM.parameters());
        assertEquals(24_330, Problems.LARGE.parameters());
        for (Problems.Mlp p : List.of(Problems.SMALL, Problems.MEDIUM)) {
            Problems.Instance inst = p.build();
            assertEquals(p.parameters(), inst.model().parameterCount(), p.name());
            assertEquals(p.batch(), inst.data().n(), p.name());
        }
        long previous = 0;
        for (Problems.Mlp p : Problems.SCALING) {
            assertTrue(p.parameters() > previous, "scaling networks in increasing N");
            previous = p.parameters();
        }
    }

    @Test
    void observedFisherOfLogisticRegressionIsTheClosedForm() throws Exception {
        Problems.LogisticRegression p = Problems.LogisticRegression.of(8, 3000);
        INDArray exact = p.closedFormFisher();
        for (HessianMethod m : new HessianMethod[] {HessianMethod.STRUCTURED, HessianMethod.BLOCKED}) {
            ObservedFisherOperator op = new ObservedFisherOperator(p.model(), Losses.BCE, p.data(), p.theta(), 0);
            INDArray fisher = FullHessian.compute(op, FullHessian.Options.defaults().withMethod(m)).matrix();
            double err = FisherBench.relativeError(fisher, exact);
            assertTrue(err <= FisherBench.TOLERANCE, m + ": relative error " + err);
            Problems.release(fisher);
        }
    }

    @Test
    void procReadingsArePositiveOnLinux() {
        if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
            return;
        }
        assertTrue(ProcessMemory.rss() > 0);
        assertTrue(ProcessMemory.peak() >= ProcessMemory.rss() / 2);
        assertTrue(ProcessMemory.available() > 0);
    }
}
