# One image for the worker and the API; the command picks the role.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md worker.py ./
COPY workflows workflows
COPY schedules schedules
COPY security security
COPY runbooks runbooks
COPY store store
COPY activities activities
COPY services services
COPY simulation simulation
COPY api api
COPY cli cli
RUN pip install --no-cache-dir . && useradd --system escalate
USER escalate
ENV ENVIRONMENT=production
CMD ["escalate", "worker"]
