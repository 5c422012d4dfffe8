from .base import BaseGateway, GatewayError, OutgoingMessage, SubmitResult

__all__ = ["BaseGateway", "GatewayError", "OutgoingMessage", "SubmitResult"]
