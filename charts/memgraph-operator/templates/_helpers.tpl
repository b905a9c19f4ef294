{{/* The chart name, overridable. */}}
{{- define "memgraph-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of every object: the release name when it already contains the chart name, else <release>-<chart>. */}}
{{- define "memgraph-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "memgraph-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: stable for the life of a release (a Deployment's selector is immutable). */}}
{{- define "memgraph-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "memgraph-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object the chart creates: `helm uninstall` leaves none with app.kubernetes.io/instance. */}}
{{- define "memgraph-operator.labels" -}}
helm.sh/chart: {{ include "memgraph-operator.chart" . }}
{{ include "memgraph-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: memgraph-operator
{{- end -}}

{{- define "memgraph-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "memgraph-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The operator image; the tag defaults to the chart's appVersion. */}}
{{- define "memgraph-operator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Lease the replicas elect a leader on: in the release namespace, named after the release. */}}
{{- define "memgraph-operator.leaseName" -}}
{{- default (include "memgraph-operator.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{- define "memgraph-operator.metricsServiceName" -}}
{{- printf "%s-metrics" (include "memgraph-operator.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{/* The up{} selector of the operator-down alerts: the jobs the chart's ServiceMonitor (the Service's name) and
PodMonitor ("<namespace>/<name>") give the operator's targets, unless metrics.prometheusRule.operatorUpSelector
says otherwise. */}}
{{- define "memgraph-operator.upSelector" -}}
{{- with .Values.metrics.prometheusRule.operatorUpSelector -}}
{{- . -}}
{{- else -}}
{{- printf "job=~\"%s|%s/%s\", namespace=\"%s\"" (include "memgraph-operator.metricsServiceName" .) .Release.Namespace (include "memgraph-operator.fullname" .) .Release.Namespace -}}
{{- end -}}
{{- end -}}
