"""Serving environments to trainers: OpenEnv's session protocol over WebSockets and HTTP
(`/openenv/<env-id>/`), session URLs for clients that send no headers, task datasets for GRPO and
rubric manifests. See README.md in this folder.

Every session steps through `environments.services.episodes_step`, so a trainer's rollout is an
Episode like any other: it can be graded, compared and exported.
"""
