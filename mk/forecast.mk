# Forecasting and staffing: accuracy on synthetic arrivals (parameters in tools/forecast/arrivals-params.json) and speed.
.PHONY: eval-forecast bench-forecast

eval-forecast: build ## forecast WAPE/MAPE per horizon (next interval, next day, next week) of every method against seasonal naive on held-out weeks of synthetic arrivals (rolling origin), and on real bank arrivals when FORECAST_BANK_CALLS_CSV names fpp3's bank_calls CSV (not stored here); Erlang C and A staffing of a scripted day
	node dist/tools/forecast/evalForecast.js

bench-forecast: build ## time to forecast 28 days x 96 intervals x 10 groups per method (target < 1 s), and to staff those intervals by Erlang C and Erlang A
	node dist/tools/forecast/benchForecast.js
