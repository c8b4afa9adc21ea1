package followup

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/strategy"
)

func TestZZShots(t *testing.T) {
	dir := os.Getenv("SHOTS")
	if dir == "" {
		t.Skip()
	}
	e := newEnv(t)
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, strategy.Stockholm)
	var obs []strategy.Observation
	for m := 1; m <= 5; m++ {
		p := strategy.Period{Kind: strategy.Month, Year: 2025, N: m}
		for d := 0; d < 120; d++ {
			o := strategy.Observation{Tenant: tenant, Indicator: "andel-digitala", Period: p, Value: float64(50 + d%40), Source: SourceUpload, Author: "bo", Comment: "avdelningar.csv", Recorded: rec}
			if d > 0 {
				o.Dimension = strategy.Dimension{Kind: "department", Value: fmt.Sprintf("Förvaltning %03d", d)}
			}
			obs = append(obs, o)
		}
	}
	obs = append(obs, strategy.Observation{Tenant: tenant, Indicator: "andel-digitala", Period: strategy.Period{Kind: strategy.Month, Year: 2024, N: 12}, Value: 57, Source: "measure:eservices_active", Recorded: rec})
	if err := e.store.WriteObservations(context.Background(), obs); err != nil {
		t.Fatal(err)
	}
	anna := e.login("anna")
	anna.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("partly", "met", "Kommentar", "bekrafta", 0, true))
	anna.post("/uppfoljning/anvandare", url.Values{"namn": {"kansli"}, "visningsnamn": {"Kommunledningskontoret (administratör)"}, "roll": {"admin"}, "losenord": {testPassword}})
	ctx := browsertest.Start(t)
	base := e.srv.URL
	browsertest.Navigate(t, ctx, base+"/logga-in", chromedp.WaitVisible(chromedp.ID("namn")))
	browsertest.Do(t, ctx, "signing in",
		chromedp.SendKeys(chromedp.ID("namn"), "kansli"),
		chromedp.SendKeys(chromedp.ID("losenord"), testPassword),
		chromedp.Click(chromedp.CSS(`form.fu-login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.fu-bar`)),
	)
	shot := func(name string) {
		png := browsertest.Run(t, ctx, "shot", chromedp.CaptureScreenshot())
		os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	for _, w := range []int64{1280, 390} {
		h := int64(900)
		if w == 390 {
			h = 844
		}
		browsertest.Do(t, ctx, "resize", chromedp.EmulateViewport(w, h))
		for name, p := range map[string]string{"report": "/uppfoljning/rapport/2025-T1", "confirm": "/uppfoljning/rapport/2025-T1/stang"} {
			browsertest.Navigate(t, ctx, base+p, chromedp.WaitReady(chromedp.CSS("main")))
			png := browsertest.Run(t, ctx, "shot", chromedp.FullScreenshot(100))
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644)
		}
		for name, p := range map[string]string{"ind": "/uppfoljning/indikator/andel-digitala/2025-T1", "indp3": "/uppfoljning/indikator/andel-digitala/2025-T1?vperiod=2025-03&sida=3",
			"inden": "/uppfoljning/indikator/andel-digitala/2025-T1?lang=en"} {
			browsertest.Navigate(t, ctx, base+p, chromedp.WaitReady(chromedp.CSS("main")))
			shot(fmt.Sprintf("%s-%d-top", name, w))
			for _, id := range []string{"varden", "vardelista", "vardehistorik"} {
				browsertest.Do(t, ctx, "scroll", chromedp.ScrollIntoView(chromedp.ID(id)))
				shot(fmt.Sprintf("%s-%d-%s", name, w, id))
			}
		}
	}
}
