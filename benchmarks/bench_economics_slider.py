"""Time the slider-path functions of relmkt_helpers.economics (median of repeats)."""
import time, statistics
import matplotlib; matplotlib.use("Agg")
import matplotlib.pyplot as plt
from relmkt_helpers import load_sample_shop, load_spend, load_subscriptions
from relmkt_helpers.economics import *
from relmkt_helpers.plots.economics import *

shop = load_sample_shop()
tx, sp, subs = shop.transactions, load_spend(shop.spend), load_subscriptions(shop.subscriptions)
curves = ltv_curves(tx)
cbc = cac_by_channel(tx, sp)

def t(label, fn, n=50):
    fn()
    xs = []
    for _ in range(n):
        t0 = time.perf_counter(); fn(); xs.append(time.perf_counter() - t0)
    print(f"| {label} | {n} | {statistics.median(xs)*1e3:.3f} | {max(xs)*1e3:.3f} |")

print("| call | runs | median (ms) | max (ms) |\n|---|---|---|---|")
t("clv_constant_retention(40, 0.6, 0.1)", lambda: clv_constant_retention(40, 0.6, 0.1), 500)
t("breakeven_retention_spend(40, 0.6, 0.05, 0.1)", lambda: breakeven_retention_spend(40, 0.6, 0.05, 0.1), 200)
t("payback_periods(30, 40, 0.6)", lambda: payback_periods(30, 40, 0.6), 500)
t("clv_sensitivity(40) (10 x 5)", lambda: clv_sensitivity(40), 200)
t("ltv_cac_sensitivity(20 CAC x 20 margins)", lambda: ltv_cac_sensitivity(list(range(10, 210, 10)), list(range(5, 105, 5)), retention=0.6, discount=0.1), 200)
t("profit_uplift_simulation(years=10)", lambda: profit_uplift_simulation(retention=0.6, margin=40, acquisition_cost=30, margin_growth=0.05, growth_years=10), 200)
t("profit_uplift_simulation(years=50, r=0.95)", lambda: profit_uplift_simulation(retention=0.94, margin=40, acquisition_cost=30, years=50, margin_growth=0.05, growth_years=10), 200)
t("profit_uplift_grid(10 x 10 x 10)", lambda: profit_uplift_grid(retention=[0.5+0.04*i for i in range(10)], margin_growth=[0.02*i for i in range(10)], acquisition_cost=[20*i for i in range(10)]), 100)
t("cac_payback(curves, cac_by_channel, margin_rate)", lambda: cac_payback(curves, cbc, margin_rate=0.3), 200)
t("ltv_to_cac(None, 30, curves=curves)", lambda: ltv_to_cac(None, 30.0, margin_rate=0.3, curves=curves), 200)
t("economics_analysis(assumptions only)", lambda: economics_analysis(assumptions=Assumptions(cac=35)), 50)
t("economics_analysis(sample shop: tx, spend, subscriptions)", lambda: economics_analysis(tx, sp, subs), 10)
t("ltv_curves(sample shop) (once per data set)", lambda: ltv_curves(tx), 10)
sim = profit_uplift_simulation(retention=0.6, margin=40, acquisition_cost=30)
def draw(fn, *a, **k):
    fig, ax = plt.subplots(); fn(*a, ax=ax, **k); fig.canvas.draw(); plt.close(fig)
t("compute + draw: profit_uplift_simulation + plot_profit_uplift (Agg canvas draw)", lambda: draw(plot_profit_uplift, profit_uplift_simulation(retention=0.6, margin=40, acquisition_cost=30)), 20)
t("compute + draw: clv_sensitivity + plot_sensitivity_heatmap", lambda: draw(plot_sensitivity_heatmap, clv_sensitivity(40)), 20)
p = cac_payback(curves, cbc, margin_rate=0.3)
t("compute + draw: cac_payback + plot_payback_curves", lambda: draw(plot_payback_curves, cac_payback(curves, 35.0, margin_rate=0.3)), 20)
